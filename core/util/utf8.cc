#include "core/util/utf8.h"

namespace ember {

size_t Utf8SequenceCheck(const unsigned char* p, size_t n, size_t* bad_len) {
  const unsigned char lead = p[0];
  if (lead < 0x80) return 1;
  // Table 3-7 of the Unicode standard: the allowed range of the second byte depends on the lead
  // byte, which is what excludes overlong forms, surrogates and code points past U+10FFFF.
  size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead == 0xE0) {
    length = 3;
    second_min = 0xA0;
  } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    length = 3;
  } else if (lead == 0xED) {
    length = 3;
    second_max = 0x9F;
  } else if (lead == 0xF0) {
    length = 4;
    second_min = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    length = 4;
  } else if (lead == 0xF4) {
    length = 4;
    second_max = 0x8F;
  } else {
    *bad_len = 1;
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    const unsigned char min = k == 1 ? second_min : 0x80;
    const unsigned char max = k == 1 ? second_max : 0xBF;
    if (k >= n || p[k] < min || p[k] > max) {
      *bad_len = k;
      return 0;
    }
  }
  return length;
}

size_t FindInvalidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t bad = 0;
    const size_t length = Utf8SequenceCheck(p + i, n - i, &bad);
    if (length == 0) return i;
    i += length;
  }
  return absl::string_view::npos;
}

}  // namespace ember
