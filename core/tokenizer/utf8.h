// UTF-8 helpers for the tokenizer pipeline: validation (core/util/utf8.h's, named here),
// code-point iteration, and the lossy conversion Hugging Face applies when decoded bytes are not
// valid UTF-8. Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_UTF8_H_
#define EMBER_CORE_TOKENIZER_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/util/utf8.h"

namespace ember::tokenizer_internal {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence, or npos: ember's
// one validator (core/util/utf8.h), named here for the tokenizer's code.
using ::ember::FindInvalidUtf8;

// Length in bytes of the UTF-8 sequence whose lead byte is `lead`, assuming valid input (1 for
// continuation or invalid bytes, so loops always advance).
inline size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point starting at text[pos] of well-formed UTF-8 and stores its byte length in
// *len.
char32_t DecodeUtf8At(absl::string_view text, size_t pos, size_t* len);

// Appends the UTF-8 encoding of `c` (which must be a Unicode scalar value).
void AppendUtf8(char32_t c, std::string* out);

// Number of code points in well-formed UTF-8 `text`.
size_t CountCodePoints(absl::string_view text);

// Rust's `String::from_utf8_lossy`: every maximal ill-formed subsequence (Unicode's "substitution
// of maximal subparts") becomes one U+FFFD; well-formed parts are copied.
std::string Utf8Lossy(absl::string_view bytes);

// Rust's `char::is_whitespace`: the Unicode White_Space property.
bool IsUnicodeWhiteSpace(char32_t c);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_UTF8_H_
