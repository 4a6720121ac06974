#include "client/cli/token_text.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace ember::client {
namespace {

// The length of the well-formed UTF-8 sequence at text[pos] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) and its code point in *code_point; 0 when there is none.
size_t Utf8SequenceAt(absl::string_view text, size_t pos, char32_t* code_point) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[pos + i]); };
  const uint8_t b0 = byte(0);
  size_t length = 0;
  uint8_t low = 0x80;  // bounds of the second byte
  uint8_t high = 0xBF;
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
    *code_point = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    *code_point = b0 & 0x0F;
    if (b0 == 0xE0) low = 0xA0;   // overlong
    if (b0 == 0xED) high = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    *code_point = b0 & 0x07;
    if (b0 == 0xF0) low = 0x90;   // overlong
    if (b0 == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    const uint8_t b = byte(i);
    if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xBF)) return 0;
    *code_point = (*code_point << 6) | (b & 0x3F);
  }
  return length;
}

// Control characters a terminal would act on rather than show, line separators included.
bool IsControl(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029;
}

}  // namespace

std::string PrintableToken(absl::string_view token) {
  std::string out;
  out.reserve(token.size());
  size_t pos = 0;
  while (pos < token.size()) {
    char32_t c = 0;
    const size_t length = Utf8SequenceAt(token, pos, &c);
    if (length == 0) {  // not UTF-8: this one byte, escaped
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(token[pos]));
      ++pos;
      continue;
    }
    const absl::string_view sequence = token.substr(pos, length);
    pos += length;
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (IsControl(c)) {
      for (const char b : sequence) absl::StrAppendFormat(&out, "\\x%02x", static_cast<uint8_t>(b));
    } else {
      out.append(sequence.data(), sequence.size());
    }
  }
  return out;
}

}  // namespace ember::client
