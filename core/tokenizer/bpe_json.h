// Reading and checking the BPE pieces shared by tokenizer.json and classic GPT-2 files: the
// vocabulary object, merges, and the added-token list. Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_BPE_JSON_H_
#define EMBER_CORE_TOKENIZER_BPE_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/json_fields.h"
#include "nlohmann/json.hpp"

namespace ember::tokenizer_internal {

// Parses `text` as JSON; INVALID_ARGUMENT "<source>: invalid JSON: ..." on failure.
absl::StatusOr<nlohmann::json> ParseJsonDocument(absl::string_view text, absl::string_view source);

// A {"token": id, ...} object. Every id must be an integer in [0, kMaxTokenId) used by one token
// only; errors name the token.
absl::StatusOr<BpeVocab> ParseBpeVocab(const JsonField& field);

// Splits one merge written as "left right" (exactly one space); false when malformed.
bool SplitMergeLine(absl::string_view line, std::pair<std::string, std::string>* merge);

// Reads "added_tokens". Entries with empty content are skipped and a repeated content updates the
// earlier entry's options, as tokenizers does. Ids must be the ones tokenizers would assign (it
// ignores the file's ids): INVALID_ARGUMENT otherwise, and when an id belongs to a different
// model.vocab token.
absl::StatusOr<std::vector<AddedToken>> ParseAddedTokens(const JsonField& field,
                                                         const BpeVocab& vocab);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_BPE_JSON_H_
