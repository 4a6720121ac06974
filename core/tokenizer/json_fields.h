// Typed, non-throwing access to tokenizer.json fields whose errors name the file and the field path
// (e.g. "tokenizer.json: pre_tokenizer.pretokenizers[0].pattern.Regex: ..."). Internal to
// core/tokenizer: it exposes nlohmann types, a private dependency of ember_tokenizer.
#ifndef EMBER_CORE_TOKENIZER_JSON_FIELDS_H_
#define EMBER_CORE_TOKENIZER_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember::tokenizer_internal {

// A (possibly missing) JSON value plus where it came from. Cheap to copy; points into a document
// that must outlive it.
class JsonField {
 public:
  JsonField(const nlohmann::json* value, std::string source, std::string path)
      : value_(value), source_(std::move(source)), path_(std::move(path)) {}

  // The member `key` of this object (missing when this is not an object or has no such key).
  JsonField operator[](absl::string_view key) const;
  // Element `index` of this array (missing when out of range or not an array).
  JsonField At(size_t index) const;

  bool missing() const { return value_ == nullptr; }
  // Missing or JSON null.
  bool is_null() const { return value_ == nullptr || value_->is_null(); }
  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }

  // INVALID_ARGUMENT "<source>: <path>: <message>".
  absl::Status Error(absl::string_view message) const;

  // Required values: a missing field or one of the wrong type is an error.
  absl::StatusOr<std::string> String() const;
  absl::StatusOr<int64_t> Int() const;
  absl::StatusOr<bool> Bool() const;
  // Optional values: missing or null gives the default / nullopt.
  absl::StatusOr<bool> BoolOr(bool fallback) const;
  absl::StatusOr<int64_t> IntOr(int64_t fallback) const;
  absl::StatusOr<std::optional<std::string>> OptionalString() const;
  // Errors unless this is an array (an object) and returns its size.
  absl::StatusOr<size_t> ArraySize() const;
  absl::Status ExpectObject() const;
  // The "type" member of a component object.
  absl::StatusOr<std::string> Type() const { return (*this)["type"].String(); }

 private:
  const nlohmann::json* value_;
  std::string source_;
  std::string path_;
};

// A short description of a JSON value for messages, e.g. `number 1.5` or `string "x"`.
std::string DescribeJsonValue(const nlohmann::json& value);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_JSON_FIELDS_H_
