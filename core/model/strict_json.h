// Strict JSON parsing for untrusted model files (safetensors headers, shard indexes).
//
// nlohmann::json accepts inputs that a loader should not: a repeated object key silently keeps the
// last value (so a safetensors header could name one tensor twice and have the second copy win),
// and its error messages do not say which file was at fault. ParseStrictJson closes those gaps and
// never throws. Internal to core/model: the header exposes nlohmann types, which are a private
// dependency of ember_model.
#ifndef EMBER_CORE_MODEL_STRICT_JSON_H_
#define EMBER_CORE_MODEL_STRICT_JSON_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember {

// Parses `text` as one JSON value (RFC 8259; no comments, nothing but whitespace after the value).
// INVALID_ARGUMENT, with a message starting "<file_name>: ", when the text is not valid UTF-8
// (names the byte offset), is not valid JSON (names the byte offset and what was expected; a NUL
// byte anywhere is invalid, though nlohmann alone stops reading there), repeats a key within one
// object (names the key and the object's JSON pointer), or nests arrays/objects more than
// `max_depth` levels deep (bounds memory and stack use on hostile input).
absl::StatusOr<nlohmann::json> ParseStrictJson(absl::string_view text, absl::string_view file_name,
                                               int max_depth);

// A short description of a JSON value for error messages: its type and its text, cut to about 120
// characters, e.g. `number 1.5`, `string "x"`, `array [1,2]`. Never throws.
std::string DescribeJson(const nlohmann::json& value);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_STRICT_JSON_H_
