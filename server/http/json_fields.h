// Typed reads of a JSON request's fields, each failure an INVALID_ARGUMENT naming the field as the
// client sent it ("temperature: expected a number, got a string"). A missing field and a JSON
// null both read as nullopt. Stateless; any thread.
#ifndef EMBER_SERVER_HTTP_JSON_FIELDS_H_
#define EMBER_SERVER_HTTP_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember::http {

// "a string", "an array", ... for messages.
const char* JsonTypeName(const nlohmann::json& value);

absl::Status FieldError(absl::string_view field, absl::string_view problem);

absl::StatusOr<std::optional<double>> GetNumber(const nlohmann::json& object,
                                                absl::string_view field);
// An integer in [min, max]; a number with a fractional part is refused.
absl::StatusOr<std::optional<int64_t>> GetInteger(const nlohmann::json& object,
                                                  absl::string_view field, int64_t min,
                                                  int64_t max);
absl::StatusOr<std::optional<bool>> GetBool(const nlohmann::json& object, absl::string_view field);
absl::StatusOr<std::optional<std::string>> GetString(const nlohmann::json& object,
                                                     absl::string_view field);
// An array of token ids, each in [0, 2^31).
absl::StatusOr<std::vector<int32_t>> ToTokenIds(const nlohmann::json& value,
                                                absl::string_view field);

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_JSON_FIELDS_H_
