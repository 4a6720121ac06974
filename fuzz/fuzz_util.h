// Helpers shared by the fuzz targets: an invariant check that crashes (so libFuzzer records the
// input as a finding), an independent UTF-8 oracle, and the location of the committed fuzz data.
#ifndef EMBER_FUZZ_FUZZ_UTIL_H_
#define EMBER_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ember::fuzz {

// Prints where and why, then abort()s. Never returns.
[[noreturn]] void Fail(const char* file, int line, const char* condition, const std::string& why);

// Whether `text` is well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no surrogates,
// nothing above U+10FFFF). Written here rather than taken from core/ so that a bug in core's own
// validators cannot hide a finding.
bool IsValidUtf8(absl::string_view text);

// <source dir>/<relative>, where the source dir is $EMBER_SOURCE_DIR or, when unset, the tree this
// binary was configured from. For the committed data the targets load at start-up.
std::string SourcePath(absl::string_view relative);

// The whole file; abort()s naming it when it cannot be read (the target is unusable without it).
std::string ReadFileOrDie(const std::string& path);

}  // namespace ember::fuzz

// Checks an invariant of the code under test; `...` (absl::StrCat arguments) says what was seen.
// Active in every build type: a fuzz target's checks are its whole point.
#define EMBER_FUZZ_CHECK(condition, ...)                                                \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      ::ember::fuzz::Fail(__FILE__, __LINE__, #condition, ::absl::StrCat(__VA_ARGS__)); \
    }                                                                                   \
  } while (false)

#endif  // EMBER_FUZZ_FUZZ_UTIL_H_
