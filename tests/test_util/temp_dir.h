// Test helpers: a self-deleting temporary directory and paths to the source and build trees.
#ifndef EMBER_TESTS_TEST_UTIL_TEMP_DIR_H_
#define EMBER_TESTS_TEST_UTIL_TEMP_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ember::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name.
  std::string File(absl::string_view name) const;
  // Writes `contents` to path()/name (creating subdirectories) and returns the full path.
  std::string Write(absl::string_view name, absl::string_view contents) const;

 private:
  std::string path_;
};

// The repository root ($EMBER_SOURCE_DIR set by CTest, else the compiled-in path).
std::string SourceDir();
// The CMake build directory ($EMBER_BINARY_DIR set by CTest, else the compiled-in path).
std::string BinaryDir();

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_TEMP_DIR_H_
