#include "tests/core/tokenizer/streaming_check.h"

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/incremental_decoder.h"
#include "gtest/gtest.h"

namespace ember::testing {
namespace {

// Length of the well-formed sequence at text[pos], or 0 when ill-formed (Unicode Table 3-7).
size_t WellFormedLength(const std::string& text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; ++i) {
    if (pos + i >= text.size()) return 0;
    const unsigned char b = byte(pos + i);
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return 0;
  }
  return n;
}

}  // namespace

bool IsValidUtf8(const std::string& text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = WellFormedLength(text, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

// Rust's String::from_utf8_lossy: each maximal ill-formed subpart becomes one U+FFFD.
std::string Utf8Lossy(const std::string& bytes) {
  std::string out;
  for (size_t pos = 0; pos < bytes.size();) {
    const size_t n = WellFormedLength(bytes, pos);
    if (n > 0) {
      out.append(bytes, pos, n);
      pos += n;
      continue;
    }
    // Skip the longest prefix of a sequence that could still have been well-formed.
    size_t skip = 1;
    for (size_t len = 2; len <= 4 && pos + len <= bytes.size(); ++len) {
      std::string probe = bytes.substr(pos, len) + std::string(4 - len, '\x80');
      if (WellFormedLength(probe, 0) == 0) break;
      skip = len;
    }
    out += "\uFFFD";
    pos += skip;
  }
  return out;
}

// Streams `ids` and checks: the pieces concatenate to Decode(ids), every piece is valid UTF-8,
// and the emitted text is always a prefix of the final text (so nothing emitted was premature).
void ExpectStreamsLikeDecode(const Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                             bool skip_special_tokens) {
  absl::StatusOr<std::string> expected = tokenizer.Decode(ids, skip_special_tokens);
  ASSERT_TRUE(expected.ok()) << expected.status();
  IncrementalDecoder decoder(tokenizer, skip_special_tokens);
  std::string streamed;
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<std::string> piece = decoder.Push(ids[i]);
    ASSERT_TRUE(piece.ok()) << piece.status();
    ASSERT_TRUE(IsValidUtf8(*piece)) << "piece after id #" << i;
    streamed += *piece;
    ASSERT_TRUE(expected->starts_with(streamed))
        << "emitted text is not a prefix of Decode() after id #" << i << " (" << ids[i]
        << ")\n  emitted: " << streamed << "\n  decoded: " << *expected
        << "\n  ids: " << ::testing::PrintToString(ids);
  }
  const std::string rest = decoder.Flush();
  ASSERT_TRUE(IsValidUtf8(rest));
  streamed += rest;
  ASSERT_EQ(streamed, *expected) << "ids: " << ::testing::PrintToString(ids)
                                 << " skip_special_tokens=" << skip_special_tokens;
}

std::vector<int32_t> RandomIds(std::mt19937& rng, int32_t vocab_size, size_t max_length) {
  std::uniform_int_distribution<size_t> length(0, max_length);
  std::uniform_int_distribution<int32_t> id(0, vocab_size - 1);
  std::vector<int32_t> ids(length(rng));
  for (int32_t& v : ids) v = id(rng);
  return ids;
}

const char* const kMultilingual[] = {
    "Hello world! The quick brown fox.",
    " leading space and trailing space ",
    "Grüße aus Köln, naïve café, Straße",
    "Привет, мир! Ёлка",
    "Καλημέρα κόσμε",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีครับ",
    "你好，世界。中文分词",
    "こんにちは世界",
    "안녕하세요 세계",
    "emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flag 🇺🇸 keycap 1️⃣ rainbow "
    "🏳️‍🌈",
    "e\u0301 combining a\u0300\u0301\u0302",
    "tabs\tnewlines\n\r\n  double  spaces\u00a0nbsp\u3000ideographic",
    "<s> special </s> text <|eot|>",
    "\uFFFD literal replacement char",
    "",
};

absl::Span<const char* const> MultilingualTexts() { return kMultilingual; }

}  // namespace ember::testing
