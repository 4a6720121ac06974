// Small edits to a copy of a valid model directory, each breaking one thing: used by the
// bad-model-files matrix (bad_model_files_test.cc). Every helper fails the running test (gtest
// ADD_FAILURE) when the file it edits is not what it expects, instead of crashing.
#ifndef EMBER_TESTS_CORE_MODEL_MODEL_DIR_EDITS_H_
#define EMBER_TESTS_CORE_MODEL_MODEL_DIR_EDITS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember::testing {

// A model directory being broken. Names are relative to dir().
class ModelDirEdits {
 public:
  explicit ModelDirEdits(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string Path(absl::string_view name) const;

  std::string Read(absl::string_view name) const;
  void Write(absl::string_view name, absl::string_view bytes) const;
  void Remove(absl::string_view name) const;
  // Parses `name` as JSON, lets `edit` change it and writes it back.
  void EditJson(absl::string_view name, const std::function<void(nlohmann::json&)>& edit) const;

  // The JSON header of safetensors file `name` and its data section, edited and written back as
  // 8-byte length + header + data (no padding). `edit` may change both.
  void EditSafetensors(
      absl::string_view name,
      const std::function<void(nlohmann::json& header, std::string& data)>& edit) const;
  // Replaces the header text of `name` as `edit` likes (for defects JSON cannot express:
  // duplicate keys, invalid UTF-8, broken syntax); the data section is kept.
  void EditHeaderText(absl::string_view name,
                      const std::function<void(std::string& text)>& edit) const;
  // Overwrites element `index` of F32 tensor `tensor` in safetensors file `name` with `value`.
  void PokeF32(absl::string_view name, absl::string_view tensor, int64_t index, float value) const;

 private:
  std::string dir_;
};

// Copies the regular files of `src` into `dst` (created).
void CopyModelDir(const std::string& src, const std::string& dst);

// Header length, header text and data section of safetensors bytes.
struct SafetensorsSections {
  uint64_t header_length = 0;
  std::string header;
  std::string data;
};
SafetensorsSections SplitSafetensors(absl::string_view bytes);

}  // namespace ember::testing

#endif  // EMBER_TESTS_CORE_MODEL_MODEL_DIR_EDITS_H_
