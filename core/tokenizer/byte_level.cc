#include "core/tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "core/tokenizer/utf8.h"

namespace ember::tokenizer_internal {
namespace {

// Printable bytes map to themselves; the other 68 bytes map, in byte order, to U+0100.., so the
// highest mapped character is U+0143.
constexpr char32_t kMaxMappedChar = 0x143;

bool MapsToItself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<char32_t, 256> byte_to_char;
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, kMaxMappedChar + 1> char_to_byte;

  Tables() {
    char_to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      byte_to_char[b] = MapsToItself(b) ? static_cast<char32_t>(b) : next++;
      AppendUtf8(byte_to_char[b], &byte_to_utf8[b]);
      char_to_byte[byte_to_char[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& GetTables() {
  static const Tables* const tables = new Tables();
  return *tables;
}

}  // namespace

void AppendByteLevelEncoded(absl::string_view bytes, std::string* out) {
  const Tables& t = GetTables();
  for (char ch : bytes) out->append(t.byte_to_utf8[static_cast<unsigned char>(ch)]);
}

int ByteLevelDecodeChar(char32_t c) {
  if (c > kMaxMappedChar) return -1;
  return GetTables().char_to_byte[c];
}

absl::string_view ByteLevelEncodedByte(unsigned char b) { return GetTables().byte_to_utf8[b]; }

}  // namespace ember::tokenizer_internal
