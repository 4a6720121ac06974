#include "core/tokenizer/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace ember::tokenizer_internal {
namespace {

constexpr char kFffd[] = "\xEF\xBF\xBD";

TEST(Utf8Test, FindsFirstIllFormedByte) {
  EXPECT_EQ(FindInvalidUtf8("plain \u00e9\u4e2d\U0001F600"), absl::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xC0\x80"), 2u);        // overlong
  EXPECT_EQ(FindInvalidUtf8("a\xED\xA0\x80"), 1u);     // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("abc\xE4\xB8"), 3u);       // truncated
}

TEST(Utf8Test, LossyReplacesMaximalSubparts) {
  // Rust's String::from_utf8_lossy: one U+FFFD per maximal ill-formed subpart.
  EXPECT_EQ(Utf8Lossy("ok"), "ok");
  EXPECT_EQ(Utf8Lossy("a\xE4\xB8"
                      "b"),
            std::string("a") + kFffd + "b");
  EXPECT_EQ(Utf8Lossy("\xE4\xB8\xE4\xB8\xAD"), std::string(kFffd) + "\u4e2d");
  EXPECT_EQ(Utf8Lossy("\xF0\x80\x80"), std::string(kFffd) + kFffd + kFffd);
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), std::string(kFffd) + kFffd + kFffd);
  EXPECT_EQ(Utf8Lossy("\xFF\xFE"), std::string(kFffd) + kFffd);
  EXPECT_EQ(Utf8Lossy("\xF4\x8F\xBF"), kFffd);
}

TEST(Utf8Test, WhiteSpaceProperty) {
  for (char32_t c : {0x09, 0x0A, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x3000}) {
    EXPECT_TRUE(IsUnicodeWhiteSpace(c)) << static_cast<int>(c);
  }
  for (char32_t c : {0x1C, 0x1F, 0x180E, 0x200B, 0xFEFF, 0x41}) {
    EXPECT_FALSE(IsUnicodeWhiteSpace(c)) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace ember::tokenizer_internal
