// The generator's BPE trainer, tokenizer layouts and weight streams.
#include "tools/make_model/tokenizer_builder.h"

#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tools/make_model/bpe_trainer.h"
#include "tools/make_model/corpus.h"
#include "tools/make_model/tokenizer_files.h"
#include "tools/make_model/weight_init.h"

namespace ember::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Json = nlohmann::json;

TrainingWord Word(const std::string& text, int64_t count) {
  TrainingWord w;
  for (const char c : text) w.symbols.emplace_back(1, c);
  w.count = count;
  return w;
}

TEST(BpeTrainerTest, MergesMostFrequentPairFirstWithByteWiseTieBreak) {
  // "ab" x5 and "cd" x5 tie; "ab" < "cd" goes first. Then "abc" (x3) beats nothing else.
  const BpeTrainingResult r = TrainBpe({Word("ab", 2), Word("abc", 3), Word("cd", 5)}, {});
  ASSERT_GE(r.merges.size(), 2u);
  EXPECT_THAT(r.merges[0], Pair("a", "b"));
  EXPECT_THAT(r.merges[1], Pair("c", "d"));
  EXPECT_THAT(r.new_tokens, ElementsAre("ab", "cd", "abc"));
}

TEST(BpeTrainerTest, HonoursLimitsAndFrozenSymbols) {
  BpeTrainerOptions options;
  options.max_new_tokens = 1;
  EXPECT_EQ(TrainBpe({Word("abab", 4)}, options).new_tokens.size(), 1u);
  options.max_new_tokens = 0;
  options.min_frequency = 10;
  EXPECT_TRUE(TrainBpe({Word("abab", 4)}, options).merges.empty());
  options.min_frequency = 1;
  options.is_frozen = [](absl::string_view s) { return s == "1"; };
  const BpeTrainingResult r = TrainBpe({Word("a11b", 4)}, options);
  for (const auto& [left, right] : r.merges) {
    EXPECT_NE(left, "1");
    EXPECT_NE(right, "1");
  }
}

TEST(BpeTrainerTest, SameTokenFromTwoMergesIsOneVocabularyEntry) {
  // "abc" becomes "ab"+"c" in one word and "a"+"bc" in another.
  BpeTrainerOptions options;
  options.min_frequency = 1;
  const BpeTrainingResult r = TrainBpe({Word("abx", 9), Word("bcy", 9), Word("abc", 1)}, options);
  int abc = 0;
  for (const std::string& t : r.new_tokens) abc += t == "abc";
  EXPECT_LE(abc, 1);
  EXPECT_GE(r.merges.size(), r.new_tokens.size());
}

TEST(TokenizerBuilderTest, Gpt2LayoutAndByteOrder) {
  absl::StatusOr<TrainedTokenizer> t =
      BuildTokenizer(TokenizerStyle::kGpt2ByteLevel, 512, TrainingCorpus());
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->vocab.size(), 512u);
  // GPT-2's vocab.json: "!" is 0, byte 0x00 is U+0100 at 188, space is "Ġ" (U+0120) at 220.
  EXPECT_EQ(t->vocab[0], "!");
  EXPECT_EQ(t->vocab[188], "\xC4\x80");
  EXPECT_EQ(t->vocab[220], "\xC4\xA0");
  EXPECT_EQ(t->vocab[511], "<|endoftext|>");
  EXPECT_EQ(t->eos_id, 511);
  EXPECT_EQ(t->merges[0], std::make_pair(std::string("\xC4\xA0"), std::string("t")));  // "Ġ t"
  const Json json = Json::parse(TokenizerJson(*t));
  EXPECT_EQ(json["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(json["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(json["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(json["added_tokens"][0]["content"], "<|endoftext|>");
  EXPECT_EQ(json["added_tokens"][0]["normalized"], true);
  EXPECT_EQ(json["model"]["vocab"]["<|endoftext|>"], 511);
  EXPECT_EQ(json["model"]["byte_fallback"], false);
}

TEST(TokenizerBuilderTest, LlamaLayout) {
  absl::StatusOr<TrainedTokenizer> t =
      BuildTokenizer(TokenizerStyle::kLlamaSentencePiece, 512, TrainingCorpus());
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->vocab.size(), 512u);
  EXPECT_THAT(std::vector<std::string>(t->vocab.begin(), t->vocab.begin() + 4),
              ElementsAre("<unk>", "<s>", "</s>", "<0x00>"));
  EXPECT_EQ(t->vocab[258], "<0xFF>");
  EXPECT_EQ(t->vocab[259].rfind("\xE2\x96\x81", 0), 0u) << "first merge is a word start";
  for (const auto& [left, right] : t->merges) {
    EXPECT_FALSE(left.size() == 1 && std::isdigit(left[0])) << "digits never merge";
    EXPECT_FALSE(right.size() == 1 && std::isdigit(right[0]));
  }
  const std::string text = TokenizerJson(*t);
  const Json json = Json::parse(text);
  EXPECT_EQ(json["normalizer"]["normalizers"][0]["type"], "Prepend");
  EXPECT_EQ(json["decoder"]["decoders"][3]["type"], "Strip");
  EXPECT_EQ(json["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
  EXPECT_EQ(json["model"]["byte_fallback"], true);
  EXPECT_EQ(json["model"]["unk_token"], "<unk>");
  EXPECT_EQ(json["model"]["vocab"].size(), 512u);
  EXPECT_EQ(json["model"]["merges"].size(), t->merges.size());
  // The pretty layout of the published file: 2-space indent, vocabulary entries at depth 3.
  EXPECT_THAT(text, HasSubstr("\n    \"vocab\": {\n      \"<unk>\": 0,\n      \"<s>\": 1,"));
  const Json config = Json::parse(TokenizerConfigJson(*t, 256));
  EXPECT_EQ(config["add_bos_token"], true);
  EXPECT_EQ(config["tokenizer_class"], "LlamaTokenizer");
  EXPECT_EQ(config["added_tokens_decoder"]["2"]["content"], "</s>");
}

TEST(TokenizerBuilderTest, Qwen2Layout) {
  absl::StatusOr<TrainedTokenizer> t =
      BuildTokenizer(TokenizerStyle::kQwen2ByteLevel, 512, TrainingCorpus());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->vocab.size(), 509u);
  EXPECT_EQ(t->TotalSize(), 512);
  EXPECT_EQ(t->TokenText(t->eos_id), "<|im_end|>");
  EXPECT_EQ(t->TokenText(t->pad_id), "<|endoftext|>");
  const Json json = Json::parse(TokenizerJson(*t));
  EXPECT_EQ(json["normalizer"]["type"], "NFC");
  EXPECT_EQ(json["pre_tokenizer"]["pretokenizers"][0]["type"], "Split");
  EXPECT_EQ(json["added_tokens"].size(), 3u);
  EXPECT_FALSE(json["model"]["vocab"].contains("<|im_end|>"));
  const Json map = Json::parse(SpecialTokensMapJson(*t));
  EXPECT_EQ(map["eos_token"]["content"], "<|im_end|>");
}

TEST(TokenizerBuilderTest, FullSizeVocabulariesArePadded) {
  absl::StatusOr<TrainedTokenizer> llama =
      BuildTokenizer(TokenizerStyle::kLlamaSentencePiece, 32000, TrainingCorpus());
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_EQ(llama->vocab.size(), 32000u);
  EXPECT_GT(llama->padding_tokens, 0);
  EXPECT_EQ(llama->vocab[259 + llama->learned_tokens], "<extra_0>");
  absl::StatusOr<TrainedTokenizer> gpt2 =
      BuildTokenizer(TokenizerStyle::kGpt2ByteLevel, 50257, TrainingCorpus());
  ASSERT_TRUE(gpt2.ok()) << gpt2.status();
  EXPECT_EQ(gpt2->vocab.size(), 50257u);
  EXPECT_EQ(gpt2->vocab.back(), "<|endoftext|>");
  EXPECT_EQ(Json::parse(TokenizerJson(*gpt2))["model"]["vocab"].size(), 50257u);
}

TEST(TokenizerBuilderTest, RejectsVocabulariesTooSmallForTheFixedTokens) {
  EXPECT_THAT(
      std::string(
          BuildTokenizer(TokenizerStyle::kGpt2ByteLevel, 256, TrainingCorpus()).status().message()),
      HasSubstr("at least 257"));
  EXPECT_FALSE(BuildTokenizer(TokenizerStyle::kLlamaSentencePiece, 300, TrainingCorpus()).ok());
}

TEST(WeightInitTest, StreamsAreIndependentOfChunking) {
  const uint64_t key = TensorStreamKey(3, "model.norm.weight");
  std::vector<float> whole(100), parts(100);
  FillWeights(key, InitKind::kNormal, 0.02, 0, absl::MakeSpan(whole));
  FillWeights(key, InitKind::kNormal, 0.02, 0, absl::MakeSpan(parts).subspan(0, 37));
  FillWeights(key, InitKind::kNormal, 0.02, 37, absl::MakeSpan(parts).subspan(37));
  EXPECT_EQ(whole, parts);
  std::vector<float> other(100);
  FillWeights(TensorStreamKey(4, "model.norm.weight"), InitKind::kNormal, 0.02, 0,
              absl::MakeSpan(other));
  EXPECT_NE(whole, other);
  FillWeights(TensorStreamKey(3, "model.norm.bias"), InitKind::kNormal, 0.02, 0,
              absl::MakeSpan(other));
  EXPECT_NE(whole, other);
  for (const float v : whole) EXPECT_LE(std::abs(v), 0.02f * 3.47f);
}

TEST(WeightInitTest, AppendsLittleEndianBytes) {
  std::string bytes;
  AppendAsDType(std::vector<float>{1.0f}, DType::kF32, bytes);
  AppendAsDType(std::vector<float>{1.0f}, DType::kBF16, bytes);
  AppendAsDType(std::vector<float>{1.0f}, DType::kF16, bytes);
  EXPECT_EQ(bytes, std::string("\x00\x00\x80\x3F\x80\x3F\x00\x3C", 8));
}

}  // namespace
}  // namespace ember::tools
