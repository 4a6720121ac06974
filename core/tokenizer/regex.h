// PCRE2-backed regular expressions that behave like the Oniguruma regexes Hugging Face
// `tokenizers` compiles from tokenizer.json (Split and Replace patterns, the GPT-2 ByteLevel
// regex). Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_REGEX_H_
#define EMBER_CORE_TOKENIZER_REGEX_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct pcre2_real_code_8;

namespace ember::tokenizer_internal {

// A match as byte offsets [begin, end) into the searched text.
struct MatchSpan {
  size_t begin = 0;
  size_t end = 0;
};

// Rewrites an Oniguruma (Ruby syntax) pattern into PCRE2 syntax with the same meaning under
// PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE:
//   \s \S          -> \p{White_Space} \P{White_Space} (PCRE2's \s also takes U+180E)
//   \d \w \p{L} \p{N} (and their negations outside classes) -> classes that add the Unicode 15/16
//                     code points PCRE2 10.42 lacks (see unicode_classes.h)
//   \h \H          -> hex-digit classes (Oniguruma's meaning; PCRE2's is horizontal space)
//   \uHHHH         -> \x{HHHH}
//   (?m) (?-m) ... -> (?s) ...: Ruby's "m" flag is PCRE2's dotall; Ruby's ^ and $ always match at
//                     line breaks, hence PCRE2_MULTILINE.
// Nested character classes and class intersection (&&), which PCRE2 lacks, give INVALID_ARGUMENT.
// Inside a class, \D \W \P{L} \P{N} keep PCRE2's Unicode 14 meaning (they cannot be widened there).
absl::StatusOr<std::string> TranslateOnigurumaPattern(absl::string_view pattern);

// A compiled, JIT-accelerated pattern. Immutable and safe to use from many threads at once (match
// scratch space is per thread).
class Regex {
 public:
  // Compiles a tokenizer.json (Oniguruma) pattern via TranslateOnigurumaPattern.
  static absl::StatusOr<std::unique_ptr<Regex>> FromOniguruma(absl::string_view pattern);
  // Compiles a pattern already written in PCRE2 syntax (UTF, UCP and MULTILINE are on).
  static absl::StatusOr<std::unique_ptr<Regex>> FromPcre2(absl::string_view pattern);

  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends to *out every match in `text` (which must be valid UTF-8), scanning left to right the
  // way Oniguruma's find_iter does in `tokenizers`: after a match the search resumes at its end,
  // and an empty match right where the previous match ended is skipped by advancing one character.
  // Fails only when PCRE2 hits a resource limit (RESOURCE_EXHAUSTED) or reports an internal error.
  absl::Status FindAll(absl::string_view text, std::vector<MatchSpan>* out) const;

  // The same matches passed one at a time to `fn`, stopping at its first error.
  absl::Status ForEachMatch(absl::string_view text,
                            absl::FunctionRef<absl::Status(const MatchSpan&)> fn) const;

  // True when the pattern matches somewhere in `text` (valid UTF-8). Match errors count as no
  // match.
  bool Contains(absl::string_view text) const;

 private:
  Regex(pcre2_real_code_8* code, bool jit) : code_(code), jit_(jit) {}

  pcre2_real_code_8* code_;
  bool jit_;
};

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_REGEX_H_
