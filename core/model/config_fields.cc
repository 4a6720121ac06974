#include "core/model/config_fields.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/strict_json.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

// Config files are flat but for a few small nested objects (rope_scaling, task_specific_params);
// this bounds hostile nesting well above anything real.
constexpr int kMaxConfigDepth = 64;

// Reads a JSON integer as int64. nlohmann stores non-negative literals as uint64, so values above
// INT64_MAX arrive as number_unsigned and are out of range here.
std::optional<int64_t> AsInt64(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseConfigObject(absl::string_view text,
                                                 absl::string_view source_name) {
  ASSIGN_OR_RETURN(nlohmann::json json, ParseStrictJson(text, source_name, kMaxConfigDepth));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_name, ": the top level must be a JSON object, got ", DescribeJson(json)));
  }
  return json;
}

ConfigFields::ConfigFields(const nlohmann::json& object, absl::string_view source_name,
                           absl::string_view prefix)
    : object_(object), source_name_(source_name), prefix_(prefix) {}

const nlohmann::json* ConfigFields::Find(absl::string_view key) const {
  const auto it = object_.find(std::string(key));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool ConfigFields::Has(absl::string_view key) const { return Find(key) != nullptr; }

bool ConfigFields::Contains(absl::string_view key) const {
  return object_.contains(std::string(key));
}

absl::Status ConfigFields::Error(absl::string_view key, absl::string_view message) const {
  return absl::InvalidArgumentError(
      absl::StrCat(source_name_, ": field '", prefix_, key, "' ", message));
}

absl::Status ConfigFields::FileError(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(source_name_, ": ", message));
}

absl::Status ConfigFields::TypeError(absl::string_view key, absl::string_view expected,
                                     const nlohmann::json& got) const {
  return Error(key, absl::StrCat("must be ", expected, ", got ", DescribeJson(got)));
}

absl::StatusOr<std::optional<int64_t>> ConfigFields::Int(absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  const std::optional<int64_t> i = AsInt64(*value);
  if (!i.has_value()) return TypeError(key, "an integer in the int64 range", *value);
  return i;
}

absl::StatusOr<std::optional<double>> ConfigFields::Number(absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  // is_number() is false for booleans in nlohmann, so `true` is rejected here.
  if (!value->is_number()) return TypeError(key, "a number", *value);
  return value->get<double>();
}

absl::StatusOr<std::optional<bool>> ConfigFields::Bool(absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) return TypeError(key, "true or false", *value);
  return value->get<bool>();
}

absl::StatusOr<std::optional<std::string>> ConfigFields::String(absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) return TypeError(key, "a string", *value);
  return value->get<std::string>();
}

absl::StatusOr<std::optional<std::vector<int64_t>>> ConfigFields::IntOrIntList(
    absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  std::vector<int64_t> out;
  if (!value->is_array()) {
    const std::optional<int64_t> i = AsInt64(*value);
    if (!i.has_value()) return TypeError(key, "an integer or a list of integers", *value);
    out.push_back(*i);
    return out;
  }
  for (size_t k = 0; k < value->size(); ++k) {
    const std::optional<int64_t> i = AsInt64((*value)[k]);
    if (!i.has_value()) {
      return Error(key, absl::StrCat("must be a list of integers, but element ", k, " is ",
                                     DescribeJson((*value)[k])));
    }
    out.push_back(*i);
  }
  return out;
}

absl::StatusOr<std::optional<std::vector<std::vector<int64_t>>>> ConfigFields::IntListList(
    absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) return TypeError(key, "a list of lists of integers", *value);
  std::vector<std::vector<int64_t>> out;
  for (size_t k = 0; k < value->size(); ++k) {
    const nlohmann::json& inner = (*value)[k];
    if (!inner.is_array()) {
      return Error(key, absl::StrCat("must be a list of lists of integers, but element ", k, " is ",
                                     DescribeJson(inner)));
    }
    out.emplace_back();
    for (size_t j = 0; j < inner.size(); ++j) {
      const std::optional<int64_t> i = AsInt64(inner[j]);
      if (!i.has_value()) {
        return Error(key, absl::StrCat("must be a list of lists of integers, but element [", k,
                                       "][", j, "] is ", DescribeJson(inner[j])));
      }
      out.back().push_back(*i);
    }
  }
  return out;
}

absl::StatusOr<const nlohmann::json*> ConfigFields::Object(absl::string_view key) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return nullptr;
  if (!value->is_object()) return TypeError(key, "an object", *value);
  return value;
}

absl::StatusOr<int64_t> ConfigFields::RequiredInt(absl::string_view key) const {
  ASSIGN_OR_RETURN(const std::optional<int64_t> value, Int(key));
  if (!value.has_value()) return Error(key, "is required but missing");
  return *value;
}

absl::StatusOr<std::optional<int64_t>> ConfigFields::PositiveInt(absl::string_view key) const {
  ASSIGN_OR_RETURN(const std::optional<int64_t> value, Int(key));
  if (value.has_value() && *value <= 0) {
    return Error(key, absl::StrCat("must be positive, got ", *value));
  }
  return value;
}

}  // namespace ember
