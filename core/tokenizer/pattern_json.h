// Reads the {"String": "..."} / {"Regex": "..."} pattern objects that Split, Replace (normalizer
// and decoder) use in tokenizer.json. Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_PATTERN_JSON_H_
#define EMBER_CORE_TOKENIZER_PATTERN_JSON_H_

#include "absl/status/statusor.h"
#include "core/tokenizer/json_fields.h"
#include "core/tokenizer/pattern.h"

namespace ember::tokenizer_internal {

absl::StatusOr<Pattern> ParsePattern(const JsonField& field);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_PATTERN_JSON_H_
