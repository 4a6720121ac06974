// GPT-2's reversible byte <-> character mapping ("bytes_to_unicode"): every byte gets a printable
// character so byte-level BPE vocabularies can be stored as text ("Ġ" is the space byte). Internal
// to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_BYTE_LEVEL_H_
#define EMBER_CORE_TOKENIZER_BYTE_LEVEL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ember::tokenizer_internal {

// Appends, for every byte of `bytes`, the UTF-8 encoding of its mapped character.
void AppendByteLevelEncoded(absl::string_view bytes, std::string* out);

// The byte a mapped character stands for, or -1 when `c` is not one of the 256 mapped characters.
int ByteLevelDecodeChar(char32_t c);

// The UTF-8 encoding of the character byte `b` maps to.
absl::string_view ByteLevelEncodedByte(unsigned char b);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_BYTE_LEVEL_H_
