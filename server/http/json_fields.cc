#include "server/http/json_fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace ember::http {

namespace {

const nlohmann::json* Find(const nlohmann::json& object, absl::string_view field) {
  auto it = object.find(std::string(field));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

const char* JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::StatusOr<std::optional<double>> GetNumber(const nlohmann::json& object,
                                                absl::string_view field) {
  const nlohmann::json* value = Find(object, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    return FieldError(field, absl::StrCat("expected a number, got ", JsonTypeName(*value)));
  }
  return value->get<double>();
}

absl::StatusOr<std::optional<int64_t>> GetInteger(const nlohmann::json& object,
                                                  absl::string_view field, int64_t min,
                                                  int64_t max) {
  const nlohmann::json* value = Find(object, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    return FieldError(field, absl::StrCat("expected an integer, got ", JsonTypeName(*value)));
  }
  int64_t n = 0;
  if (value->is_number_unsigned()) {
    const uint64_t u = value->get<uint64_t>();
    n = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
            ? std::numeric_limits<int64_t>::max()
            : static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    n = value->get<int64_t>();
  } else {
    const double d = value->get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) {
      return FieldError(field, absl::StrCat("expected an integer, got ", value->dump()));
    }
    n = d >= 9.2e18    ? std::numeric_limits<int64_t>::max()
        : d <= -9.2e18 ? std::numeric_limits<int64_t>::min()
                       : static_cast<int64_t>(d);
  }
  if (n < min || n > max) {
    return FieldError(field,
                      absl::StrCat("must be in [", min, ", ", max, "], got ", value->dump()));
  }
  return n;
}

absl::StatusOr<std::optional<bool>> GetBool(const nlohmann::json& object, absl::string_view field) {
  const nlohmann::json* value = Find(object, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    return FieldError(field, absl::StrCat("expected a boolean, got ", JsonTypeName(*value)));
  }
  return value->get<bool>();
}

absl::StatusOr<std::optional<std::string>> GetString(const nlohmann::json& object,
                                                     absl::string_view field) {
  const nlohmann::json* value = Find(object, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    return FieldError(field, absl::StrCat("expected a string, got ", JsonTypeName(*value)));
  }
  return value->get<std::string>();
}

absl::StatusOr<std::vector<int32_t>> ToTokenIds(const nlohmann::json& value,
                                                absl::string_view field) {
  if (!value.is_array()) {
    return FieldError(field,
                      absl::StrCat("expected an array of token ids, got ", JsonTypeName(value)));
  }
  std::vector<int32_t> ids;
  ids.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const nlohmann::json& v = value[i];
    const bool integral = v.is_number_integer() || v.is_number_unsigned();
    const std::string where = absl::StrCat(field, "[", i, "]");
    if (!integral) {
      return FieldError(where, absl::StrCat("expected a token id, got ", JsonTypeName(v)));
    }
    if (v.is_number_integer() && v.get<int64_t>() < 0) {
      return FieldError(where, absl::StrCat("token ids are not negative, got ", v.dump()));
    }
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      return FieldError(where, absl::StrCat("no such token id: ", v.dump()));
    }
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ids;
}

}  // namespace ember::http
