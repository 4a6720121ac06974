// Small file-system helpers shared by the loaders.
#ifndef EMBER_CORE_UTIL_FILE_UTIL_H_
#define EMBER_CORE_UTIL_FILE_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember {

// Reads a whole (small) file into memory: config.json, tokenizer.json, merges.txt. Errors name the
// path: NOT_FOUND when it does not exist, INVALID_ARGUMENT when it is not a regular file or is
// larger than `max_bytes`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_bytes = size_t{1} << 30);

// True when `path` names an existing regular file.
bool FileExists(const std::string& path);

// Joins a directory and a file name with exactly one '/'.
std::string JoinPath(absl::string_view dir, absl::string_view name);

}  // namespace ember

#endif  // EMBER_CORE_UTIL_FILE_UTIL_H_
