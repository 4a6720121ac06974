// Typed access to the fields of one Hugging Face JSON config object (config.json,
// generation_config.json), with errors that name the file and the field.
//
// Internal to core/model: the header exposes nlohmann types, a private dependency of ember_model.
#ifndef EMBER_CORE_MODEL_CONFIG_FIELDS_H_
#define EMBER_CORE_MODEL_CONFIG_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember {

// Parses a config file's text: strict JSON (no repeated keys) whose top level is an object.
// INVALID_ARGUMENT starting "<source_name>: " otherwise.
absl::StatusOr<nlohmann::json> ParseConfigObject(absl::string_view text,
                                                 absl::string_view source_name);

// Reads the fields of one JSON object. A key that is absent or whose value is JSON null counts as
// absent: `transformers` writes null for unset optional values. Type errors are INVALID_ARGUMENT
// "<source>: field '<prefix><key>' must be <type>, got <value>". Integers must be JSON integers (a
// 2048.0 is a type error); floating-point fields accept integers too (`"temperature": 1`).
class ConfigFields {
 public:
  // `object` must be a JSON object and outlive the reader. `prefix` (e.g. "rope_scaling.") is
  // prepended to field names in messages, for nested objects.
  ConfigFields(const nlohmann::json& object, absl::string_view source_name,
               absl::string_view prefix = "");

  // True when `key` is present with a non-null value.
  bool Has(absl::string_view key) const;
  // True when `key` is present at all, even as null. Tells "absent, take the class default" from
  // "explicitly null" (`"bos_token_id": null` means no BOS, not the default).
  bool Contains(absl::string_view key) const;

  absl::StatusOr<std::optional<int64_t>> Int(absl::string_view key) const;
  absl::StatusOr<std::optional<double>> Number(absl::string_view key) const;
  absl::StatusOr<std::optional<bool>> Bool(absl::string_view key) const;
  absl::StatusOr<std::optional<std::string>> String(absl::string_view key) const;
  // An integer or a list of integers (`eos_token_id`); a single integer becomes a one-element list.
  absl::StatusOr<std::optional<std::vector<int64_t>>> IntOrIntList(absl::string_view key) const;
  // A list of integer lists (`bad_words_ids`).
  absl::StatusOr<std::optional<std::vector<std::vector<int64_t>>>> IntListList(
      absl::string_view key) const;
  // A nested object (`rope_scaling`); nullptr when absent or null. Valid while `object` lives.
  absl::StatusOr<const nlohmann::json*> Object(absl::string_view key) const;

  // An integer that must be present: INVALID_ARGUMENT "missing required field" otherwise.
  absl::StatusOr<int64_t> RequiredInt(absl::string_view key) const;
  // Int(key) that must be > 0 when present.
  absl::StatusOr<std::optional<int64_t>> PositiveInt(absl::string_view key) const;

  // INVALID_ARGUMENT "<source>: field '<prefix><key>' <message>".
  absl::Status Error(absl::string_view key, absl::string_view message) const;
  // INVALID_ARGUMENT "<source>: <message>", for errors about the file as a whole.
  absl::Status FileError(absl::string_view message) const;

  absl::string_view source_name() const { return source_name_; }

 private:
  // The value at `key`, or nullptr when absent or null.
  const nlohmann::json* Find(absl::string_view key) const;
  absl::Status TypeError(absl::string_view key, absl::string_view expected,
                         const nlohmann::json& got) const;

  const nlohmann::json& object_;
  std::string source_name_;
  std::string prefix_;
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_CONFIG_FIELDS_H_
