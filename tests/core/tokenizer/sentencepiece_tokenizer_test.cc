#include "core/tokenizer/sentencepiece_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

// Models made by tools/spm_fixtures/make_spm_fixtures.sh (see there for how each is configured).
std::string FixturePath(const std::string& name) {
  return absl::StrCat(testing::SourceDir(), "/tests/core/tokenizer/testdata/", name);
}

std::unique_ptr<Tokenizer> LoadFixture(const std::string& name,
                                       const SentencePieceOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      LoadSentencePieceTokenizer(FixturePath(name), options);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}

std::vector<int32_t> Encode(const Tokenizer& tokenizer, const std::string& text,
                            bool add_special_tokens = false) {
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode(text, add_special_tokens);
  EXPECT_TRUE(ids.ok()) << ids.status();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

std::string Decode(const Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                   bool skip_special_tokens = false) {
  absl::StatusOr<std::string> text = tokenizer.Decode(ids, skip_special_tokens);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "<decode failed>";
}

int32_t Id(const Tokenizer& tokenizer, const std::string& token) {
  const std::optional<int32_t> id = tokenizer.TokenToId(token);
  EXPECT_TRUE(id.has_value()) << token;
  return id.value_or(-1);
}

// Text the models saw in training, text they did not (byte fallback), and awkward whitespace.
const char* const kRoundTripTexts[] = {
    "The quick brown fox jumps over the lazy dog.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Быстрая коричневая лиса, 你好，世界。",
    "emoji 😀 👍🏽 👨‍👩‍👧‍👦 🇺🇸 and Thai สวัสดี and Hangul "
    "안녕",
    "tabs\tand\nnewlines\r\nand  double  spaces ",
    " leading space",
    "\nleading newline",
    "12345 3.14159 1,000,000",
    "def f(x):\n    return x * 2\n",
    "",
};

TEST(SentencePieceTokenizerTest, ReportsVocabulary) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  EXPECT_EQ(bpe->VocabSize(), 420);
  EXPECT_EQ(bpe->TokenToId("<unk>"), 0);
  EXPECT_EQ(bpe->TokenToId("<s>"), 1);
  EXPECT_EQ(bpe->TokenToId("</s>"), 2);
  EXPECT_EQ(bpe->TokenToId("<0x41>"), 68);
  EXPECT_EQ(bpe->TokenToId("no such piece"), std::nullopt);
  EXPECT_EQ(bpe->IdToToken(1), "<s>");
  EXPECT_EQ(bpe->IdToToken(-1), "");
  EXPECT_EQ(bpe->IdToToken(420), "");
  EXPECT_TRUE(bpe->IsSpecial(0));
  EXPECT_TRUE(bpe->IsSpecial(1));
  EXPECT_TRUE(bpe->IsSpecial(2));
  EXPECT_FALSE(bpe->IsSpecial(68));  // byte pieces are ordinary tokens
  EXPECT_FALSE(bpe->IsSpecial(420));

  std::unique_ptr<Tokenizer> unigram = LoadFixture("spm_unigram.model");
  ASSERT_NE(unigram, nullptr);
  EXPECT_TRUE(unigram->IsSpecial(Id(*unigram, "<pad>")));
  EXPECT_TRUE(unigram->IsSpecial(Id(*unigram, "<extra_id_1>")));
  EXPECT_FALSE(unigram->IsSpecial(Id(*unigram, "<sep>")));  // user-defined, not control
}

TEST(SentencePieceTokenizerTest, EncodesAsSentencePieceDoes) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  // Pinned from `spm_encode --model=spm_bpe.model --output_format=id`.
  EXPECT_THAT(
      Encode(*bpe, "The quick brown fox"),
      ElementsAre(283, 261, 290, 345, 303, 297, 302, 308, 273, 296, 298, 316, 292, 274, 298, 312));
  EXPECT_THAT(Encode(*bpe, "  x"), ElementsAre(290, 290, 290, 312));  // dummy prefix + 2 spaces
  EXPECT_THAT(Encode(*bpe, ""), ElementsAre());

  std::unique_ptr<Tokenizer> unigram = LoadFixture("spm_unigram.model");
  ASSERT_NE(unigram, nullptr);
  EXPECT_THAT(Encode(*unigram, "The quick brown fox"),
              ElementsAre(281, 275, 262, 321, 269, 316, 293, 272, 283, 419, 271, 309, 289));
  // The unigram model normalizes with NFKC and collapses whitespace, as T5's does.
  EXPECT_EQ(Encode(*unigram, "ＡＢＣ"), Encode(*unigram, "ABC"));
  EXPECT_EQ(Encode(*unigram, "  a \t b  "), Encode(*unigram, "a b"));
  // User-defined pieces are matched by SentencePiece itself.
  EXPECT_THAT(Encode(*unigram, "x<sep>y"), Contains(Id(*unigram, "<sep>")));
}

TEST(SentencePieceTokenizerTest, RoundTripsText) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  for (const char* text : kRoundTripTexts) {
    EXPECT_EQ(Decode(*bpe, Encode(*bpe, text)), text);
    EXPECT_EQ(Decode(*bpe, Encode(*bpe, text, true), /*skip_special_tokens=*/true), text);
  }
}

TEST(SentencePieceTokenizerTest, FallsBackToBytesForUnseenCharacters) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  const std::vector<int32_t> ids = Encode(*bpe, "😀");  // U+1F600 = F0 9F 98 80, never seen
  std::vector<std::string> tokens;
  for (const int32_t id : ids) tokens.push_back(bpe->IdToToken(id));
  EXPECT_THAT(tokens, ElementsAre("\xE2\x96\x81", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"));
  EXPECT_EQ(Decode(*bpe, ids), "😀");

  // Byte runs decode as UTF-8; each byte of an invalid run becomes U+FFFD, as in
  // libsentencepiece.
  const int32_t e4 = Id(*bpe, "<0xE4>"), b8 = Id(*bpe, "<0xB8>"), ad = Id(*bpe, "<0xAD>");
  EXPECT_EQ(Decode(*bpe, {e4, b8, ad}), "中");
  EXPECT_EQ(Decode(*bpe, {e4, b8}), "\uFFFD\uFFFD");
  EXPECT_EQ(Decode(*bpe, {e4, b8, ad, Id(*bpe, "<0xFF>")}), "中\uFFFD");

  const std::string with_nul("a\0b", 3);  // valid UTF-8, and SentencePiece takes a length
  EXPECT_EQ(Decode(*bpe, Encode(*bpe, with_nul)), with_nul);

  std::unique_ptr<Tokenizer> unigram = LoadFixture("spm_unigram.model");
  ASSERT_NE(unigram, nullptr);
  EXPECT_EQ(Decode(*unigram, Encode(*unigram, "สวัสดี 😀")), "สวัสดี 😀");
}

TEST(SentencePieceTokenizerTest, AddsBosForLlamaStyleAndEosForT5Style) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  std::vector<int32_t> expected = {1};
  for (const int32_t id : Encode(*bpe, "Hello")) expected.push_back(id);
  EXPECT_EQ(Encode(*bpe, "Hello", true), expected);
  EXPECT_THAT(Encode(*bpe, "", true), ElementsAre(1));

  std::unique_ptr<Tokenizer> unigram = LoadFixture("spm_unigram.model");
  ASSERT_NE(unigram, nullptr);
  expected = Encode(*unigram, "Hello");
  expected.push_back(Id(*unigram, "</s>"));
  EXPECT_EQ(Encode(*unigram, "Hello", true), expected);

  // Options override the defaults...
  std::unique_ptr<Tokenizer> both =
      LoadFixture("spm_bpe.model", {.add_bos = true, .add_eos = true});
  ASSERT_NE(both, nullptr);
  EXPECT_THAT(Encode(*both, "", true), ElementsAre(1, 2));
  std::unique_ptr<Tokenizer> neither =
      LoadFixture("spm_bpe.model", {.add_bos = false, .add_eos = false});
  ASSERT_NE(neither, nullptr);
  EXPECT_EQ(Encode(*neither, "Hello", true), Encode(*neither, "Hello", false));
  // ...but cannot ask for a piece the model lacks.
  absl::StatusOr<std::unique_ptr<Tokenizer>> bad = LoadSentencePieceTokenizer(
      FixturePath("spm_unigram.model"), {.add_bos = true, .add_eos = std::nullopt});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("spm_unigram.model"));
  EXPECT_THAT(bad.status().message(), HasSubstr("no BOS"));
}

TEST(SentencePieceTokenizerTest, MatchesSpecialTokenTextInInput) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  // Each segment between special tokens is encoded on its own, with its own dummy prefix
  // (Hugging Face's legacy=True behaviour for Llama).
  std::vector<int32_t> expected = {1};
  for (const int32_t id : Encode(*bpe, "x")) expected.push_back(id);
  expected.push_back(2);
  for (const int32_t id : Encode(*bpe, " y")) expected.push_back(id);
  EXPECT_EQ(Encode(*bpe, "<s>x</s> y"), expected);
  EXPECT_THAT(Encode(*bpe, "<s><s><unk>"), ElementsAre(1, 1, 0));
  // Partial special-token text is ordinary text.
  EXPECT_THAT(Encode(*bpe, "<s"), Not(Contains(1)));
  EXPECT_THAT(Encode(*bpe, "</s"), Not(Contains(2)));

  std::unique_ptr<Tokenizer> unigram = LoadFixture("spm_unigram.model");
  ASSERT_NE(unigram, nullptr);
  EXPECT_THAT(Encode(*unigram, "<extra_id_0><pad></s>"),
              ElementsAre(Id(*unigram, "<extra_id_0>"), 0, 1));
}

TEST(SentencePieceTokenizerTest, DecodesSpecialTokensOrSkipsThem) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  const int32_t t = Id(*bpe, "\xE2\x96\x81t");  // "▁t"
  EXPECT_EQ(Decode(*bpe, {t, t}), "t t");
  // Only a sequence that starts with an ordinary piece loses its leading space (as the
  // tokenizer.json conversion of the model decodes).
  EXPECT_EQ(Decode(*bpe, {1, t}), "<s> t");
  EXPECT_EQ(Decode(*bpe, {1, t}, true), "t");
  EXPECT_EQ(Decode(*bpe, {t, 2, t, 0}), "t</s> t<unk>");
  EXPECT_EQ(Decode(*bpe, {t, 2, t, 0}, true), "t t");
  // Skipped special tokens vanish before decoding, so byte runs on both sides join up.
  const int32_t e4 = Id(*bpe, "<0xE4>"), b8 = Id(*bpe, "<0xB8>"), ad = Id(*bpe, "<0xAD>");
  EXPECT_EQ(Decode(*bpe, {e4, 2, b8, ad}, true), "中");
  EXPECT_EQ(Decode(*bpe, {e4, 2, b8, ad}, false), "\uFFFD</s>\uFFFD\uFFFD");
  EXPECT_EQ(Decode(*bpe, {}), "");

  const std::vector<int32_t> with_specials = Encode(*bpe, "Hello <s>world</s>", true);
  // "Hello " keeps its trailing space and "world" gets a dummy prefix of its own.
  EXPECT_EQ(Decode(*bpe, with_specials, true), "Hello  world");
  EXPECT_EQ(Decode(*bpe, with_specials, false), "<s> Hello <s> world</s>");
}

TEST(SentencePieceTokenizerTest, RejectsInvalidInput) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  absl::StatusOr<std::vector<int32_t>> ids = bpe->Encode("ok \xFF\xFE", false);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ids.status().message(), HasSubstr("not valid UTF-8 (byte 3)"));

  for (const int32_t bad_id : {-1, 420, 1 << 30}) {
    absl::StatusOr<std::string> text = bpe->Decode(std::vector<int32_t>{5, bad_id}, false);
    ASSERT_FALSE(text.ok()) << bad_id;
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(text.status().message(), HasSubstr(absl::StrCat("token id ", bad_id)));
    EXPECT_THAT(text.status().message(), HasSubstr("spm_bpe.model"));
  }
}

TEST(SentencePieceTokenizerTest, RejectsBytesThatAreNotAModel) {
  absl::StatusOr<std::string> model = ReadFileToString(FixturePath("spm_bpe.model"));
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string not_models[] = {
      "",
      "not a model",
      std::string("\x0a\x05hello", 7),
      model->substr(0, model->size() / 2),  // truncated
      model->substr(1),                     // shifted
  };
  for (const std::string& bytes : not_models) {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
        SentencePieceTokenizerFromBytes(bytes, "bad/tokenizer.model");
    ASSERT_FALSE(tokenizer.ok()) << "accepted " << bytes.size() << " bytes";
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tokenizer.status().message(), HasSubstr("bad/tokenizer.model"));
  }

  testing::TempDir dir;
  const std::string path = dir.Write("tokenizer.model", "garbage bytes");
  absl::StatusOr<std::unique_ptr<Tokenizer>> from_file = LoadSentencePieceTokenizer(path);
  ASSERT_FALSE(from_file.ok());
  EXPECT_EQ(from_file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(from_file.status().message(), HasSubstr(path));

  absl::StatusOr<std::unique_ptr<Tokenizer>> missing =
      LoadSentencePieceTokenizer(dir.File("missing.model"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// The interface promises thread safety: many threads encode and decode at once.
TEST(SentencePieceTokenizerTest, IsSafeToShareBetweenThreads) {
  std::unique_ptr<Tokenizer> bpe = LoadFixture("spm_bpe.model");
  ASSERT_NE(bpe, nullptr);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        for (const char* text : kRoundTripTexts) {
          absl::StatusOr<std::vector<int32_t>> ids = bpe->Encode(text, true);
          if (!ids.ok()) {
            ++failures[t];
            continue;
          }
          absl::StatusOr<std::string> back = bpe->Decode(*ids, true);
          if (!back.ok() || *back != text) ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ElementsAreArray({0, 0, 0, 0}));
}

}  // namespace
}  // namespace ember
