#include "tests/test_util/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace ember::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp", "/ember_test_XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

std::string TempDir::Write(absl::string_view name, absl::string_view contents) const {
  const std::string full = File(name);
  std::filesystem::create_directories(std::filesystem::path(full).parent_path());
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) throw std::runtime_error("cannot write " + full);
  return full;
}

std::string SourceDir() {
  const char* env = std::getenv("EMBER_SOURCE_DIR");
  return env != nullptr ? env : EMBER_SOURCE_DIR_DEFAULT;
}

std::string BinaryDir() {
  const char* env = std::getenv("EMBER_BINARY_DIR");
  return env != nullptr ? env : EMBER_BINARY_DIR_DEFAULT;
}

}  // namespace ember::testing
