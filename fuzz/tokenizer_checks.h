// Invariants every loaded Tokenizer must keep, shared by the targets that load tokenizers from
// fuzzed bytes (tokenizer.json, SentencePiece models).
#ifndef EMBER_FUZZ_TOKENIZER_CHECKS_H_
#define EMBER_FUZZ_TOKENIZER_CHECKS_H_

#include <cstdint>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ember::fuzz {

// Decode(ids) succeeds and is valid UTF-8, with and without skip_special_tokens. `ids` must be
// inside the vocabulary.
void CheckDecodes(const Tokenizer& tokenizer, const std::vector<int32_t>& ids);

// Uses a tokenizer that just loaded: its vocabulary is positive, encoding a probe text (spaces,
// digits, multi-byte characters, an emoji, special-token spellings) gives ids inside it that
// decode, a range of ids decodes, and an id past the vocabulary is refused with INVALID_ARGUMENT.
void CheckLoadedTokenizer(const Tokenizer& tokenizer);

}  // namespace ember::fuzz

#endif  // EMBER_FUZZ_TOKENIZER_CHECKS_H_
