// PrintableToken: tokens print as text; only control characters, backslashes and bytes that are
// not UTF-8 are escaped, and no output contains a line break.
#include "client/cli/token_text.h"

#include <string>

#include "gtest/gtest.h"

namespace ember::client {
namespace {

TEST(PrintableTokenTest, ValidUtf8PrintsAsText) {
  EXPECT_EQ(PrintableToken("\xe2\x96\x81H"), "\xe2\x96\x81H");  // SentencePiece "▁H"
  EXPECT_EQ(PrintableToken("\xc4\xa0the"), "\xc4\xa0the");      // byte-level "Ġthe"
  EXPECT_EQ(PrintableToken("<s>"), "<s>");
  EXPECT_EQ(PrintableToken("caf\xc3\xa9 \xf0\x9f\x99\x82"), "caf\xc3\xa9 \xf0\x9f\x99\x82");
  EXPECT_EQ(PrintableToken(" "), " ");
  EXPECT_EQ(PrintableToken(""), "");
}

TEST(PrintableTokenTest, ControlCharactersAndBackslashesAreEscaped) {
  EXPECT_EQ(PrintableToken("a\tb\nc\rd"), "a\\tb\\nc\\rd");
  EXPECT_EQ(PrintableToken("back\\slash"), "back\\\\slash");
  EXPECT_EQ(PrintableToken(std::string("\0\x01\x7f", 3)), "\\x00\\x01\\x7f");
  EXPECT_EQ(PrintableToken("\xc2\x85"), "\\xc2\\x85");               // NEL (C1)
  EXPECT_EQ(PrintableToken("x\xe2\x80\xa8y"), "x\\xe2\\x80\\xa8y");  // U+2028 line separator
}

TEST(PrintableTokenTest, InvalidUtf8BytesAreEscapedOneByOne) {
  EXPECT_EQ(PrintableToken("\xe2\x96"), "\\xe2\\x96");                    // a character cut short
  EXPECT_EQ(PrintableToken("ab\xff"), "ab\\xff");                         // never UTF-8
  EXPECT_EQ(PrintableToken("\xc0\xaf"), "\\xc0\\xaf");                    // overlong "/"
  EXPECT_EQ(PrintableToken("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(PrintableToken("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(PrintableToken("\x80\xc3\xa9"), "\\x80\xc3\xa9");             // a stray byte, then "é"
}

}  // namespace
}  // namespace ember::client
