#include "core/tokenizer/incremental_decoder.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/streaming_check.h"
#include "tests/core/tokenizer/tiny_tokenizer_json.h"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using ::testing::ElementsAre;
using testing::ExpectStreamsLikeDecode;
using ::testing::HasSubstr;
using testing::IsValidUtf8;
using testing::MultilingualTexts;
using testing::RandomIds;
using testing::Utf8Lossy;

// --- A fake tokenizer with Hugging Face's decoding rules. ------------------------------------

// Mixes every awkward case streaming meets in real tokenizers: ordinary tokens holding partial
// UTF-8 (byte-level BPE; the decoded bytes go through from_utf8_lossy), "<0xNN>" byte-fallback
// tokens decoded run by run (HF ByteFallback: an invalid run is one U+FFFD per byte), "▁" as a
// space with the first character stripped when it is a space (HF Strip after Fuse, as in Llama's
// tokenizer.json), special tokens rendered as text or skipped, even an empty token.
class FakeTokenizer : public Tokenizer {
 public:
  static constexpr int32_t kBos = 0, kEos = 1, kEot = 2, kFirstByte = 3;

  explicit FakeTokenizer(bool strip_leading_space) : strip_leading_space_(strip_leading_space) {
    vocab_ = {"<s>", "</s>", "<|eot|>"};
    for (int b = 0; b < 256; ++b) {
      vocab_.push_back(absl::StrCat(
          "<0x", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(b, absl::kZeroPad2))), ">"));
    }
    for (const char* token : {"\xE2\x96\x81",
                              "\xE2\x96\x81\xE2\x96\x81",
                              "a",
                              "e",
                              "x",
                              "b",
                              "ab",
                              "the",
                              "\xE2\x96\x81"
                              "a",
                              "\xE2\x96\x81"
                              "the",
                              " ",
                              "\n",
                              "!",
                              "\xE2\x96\x81!",
                              "é",
                              "中",
                              "😀",
                              "👍",
                              "\xF0\x9F",
                              "\x98\x80",
                              "\xF0",
                              "\x9F\x98",
                              "\x80",
                              "\xE4",
                              "\xB8\xAD",
                              "\xB8",
                              "\xAD",
                              "\xC3",
                              "\xA9",
                              "\xF0\x9F\x91",
                              "\x8D",
                              "\xFF",
                              "\xE2\x80\x8D",
                              "\xCC\x81",
                              "\xEF\xBF\xBD",
                              "\xF0\x9F\x8F",
                              "\xBD",
                              ""}) {
      vocab_.push_back(token);
    }
  }

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    // Greedy longest match over ordinary tokens; bytes nothing matches use byte fallback.
    std::vector<int32_t> ids;
    if (add_special_tokens) ids.push_back(kBos);
    for (size_t pos = 0; pos < text.size();) {
      int32_t best = -1;
      size_t best_len = 0;
      for (int32_t id = kFirstByte + 256; id < VocabSize(); ++id) {
        const std::string& token = vocab_[id];
        if (!token.empty() && token.size() > best_len &&
            absl::StartsWith(text.substr(pos), token)) {
          best = id;
          best_len = token.size();
        }
      }
      if (best < 0) {
        best = kFirstByte + static_cast<unsigned char>(text[pos]);
        best_len = 1;
      }
      ids.push_back(best);
      pos += best_len;
    }
    return ids;
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override {
    max_decode_length_ = std::max(max_decode_length_, ids.size());
    std::string bytes;
    std::string run;  // pending byte-fallback bytes
    const auto flush_run = [&] {
      bytes += IsValidUtf8(run) ? run : Repeat("\uFFFD", run.size());
      run.clear();
    };
    for (const int32_t id : ids) {
      if (id < 0 || id >= VocabSize()) return absl::InvalidArgumentError("fake: bad id");
      if (IsSpecial(id)) {
        if (skip_special_tokens) continue;
        flush_run();
        bytes += vocab_[id];
      } else if (id < kFirstByte + 256) {
        run.push_back(static_cast<char>(id - kFirstByte));
      } else {
        flush_run();
        bytes += absl::StrReplaceAll(vocab_[id], {{"\xE2\x96\x81", " "}});
      }
    }
    flush_run();
    std::string text = Utf8Lossy(bytes);
    if (strip_leading_space_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
    return text;
  }

  int32_t VocabSize() const override { return static_cast<int32_t>(vocab_.size()); }
  std::optional<int32_t> TokenToId(absl::string_view token) const override {
    for (int32_t id = 0; id < VocabSize(); ++id) {
      if (vocab_[id] == token) return id;
    }
    return std::nullopt;
  }
  std::string IdToToken(int32_t id) const override {
    return id >= 0 && id < VocabSize() ? vocab_[id] : "";
  }
  bool IsSpecial(int32_t id) const override { return id >= kBos && id <= kEot; }

  int32_t Id(absl::string_view token) const { return *TokenToId(token); }
  int32_t ByteId(unsigned char b) const { return kFirstByte + b; }
  size_t max_decode_length() const { return max_decode_length_; }
  void ResetStats() const { max_decode_length_ = 0; }

 private:
  static std::string Repeat(absl::string_view s, size_t times) {
    std::string out;
    for (size_t i = 0; i < times; ++i) absl::StrAppend(&out, s);
    return out;
  }

  const bool strip_leading_space_;
  std::vector<std::string> vocab_;
  mutable size_t max_decode_length_ = 0;
};

// --- Tests against the fake tokenizer. -------------------------------------------------------

class FakeTokenizerStreamingTest : public ::testing::TestWithParam<bool> {
 protected:
  FakeTokenizer tokenizer_{/*strip_leading_space=*/GetParam()};
};

TEST_P(FakeTokenizerStreamingTest, RandomIdSequencesStreamLikeDecode) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    const std::vector<int32_t> ids = RandomIds(rng, tokenizer_.VocabSize(), 30);
    for (const bool skip : {false, true}) {
      ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(tokenizer_, ids, skip)) << "sequence " << i;
    }
  }
}

// Random ids over the awkward part of the vocabulary only: bytes, partial UTF-8, specials, spaces.
TEST_P(FakeTokenizerStreamingTest, RandomAwkwardSequencesStreamLikeDecode) {
  std::vector<int32_t> awkward = {FakeTokenizer::kBos, FakeTokenizer::kEos, FakeTokenizer::kEot};
  for (const unsigned char b :
       {0x20, 0x41, 0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0xC3, 0xA9, 0x0A}) {
    awkward.push_back(tokenizer_.ByteId(b));
  }
  for (const char* token :
       {"\xE2\x96\x81", "\xE2\x96\x81\xE2\x96\x81", "\xF0\x9F", "\x98\x80", "\xF0", "\x9F\x98",
        "\x80", "\xE4", "\xB8\xAD", "\xFF", "\xC3", "\xA9", "\xEF\xBF\xBD", "", "a", " ",
        "\xE2\x96\x81"
        "a"}) {
    awkward.push_back(tokenizer_.Id(token));
  }
  std::mt19937 rng(99);
  std::uniform_int_distribution<size_t> pick(0, awkward.size() - 1);
  std::uniform_int_distribution<size_t> length(0, 16);
  for (int i = 0; i < 5000; ++i) {
    std::vector<int32_t> ids(length(rng));
    for (int32_t& id : ids) id = awkward[pick(rng)];
    for (const bool skip : {false, true}) {
      ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(tokenizer_, ids, skip)) << "sequence " << i;
    }
  }
}

TEST_P(FakeTokenizerStreamingTest, EncodedTextStreamsLikeDecode) {
  for (const char* text : MultilingualTexts()) {
    for (const bool add_special : {false, true}) {
      absl::StatusOr<std::vector<int32_t>> ids = tokenizer_.Encode(text, add_special);
      ASSERT_TRUE(ids.ok());
      for (const bool skip : {false, true}) {
        ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(tokenizer_, *ids, skip)) << text;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(StripLeadingSpace, FakeTokenizerStreamingTest, ::testing::Bool());

std::vector<std::string> PushAll(IncrementalDecoder& decoder, const std::vector<int32_t>& ids) {
  std::vector<std::string> pieces;
  for (const int32_t id : ids) {
    absl::StatusOr<std::string> piece = decoder.Push(id);
    EXPECT_TRUE(piece.ok()) << piece.status();
    pieces.push_back(piece.ok() ? *piece : "<error>");
  }
  pieces.push_back(decoder.Flush());
  return pieces;
}

TEST(IncrementalDecoderTest, HoldsBackPartialCharactersUntilComplete) {
  FakeTokenizer tokenizer(/*strip_leading_space=*/false);
  IncrementalDecoder decoder(tokenizer, false);
  // An emoji split over two byte-level tokens, then over four byte-fallback tokens.
  EXPECT_THAT(PushAll(decoder, {tokenizer.Id("a"), tokenizer.Id("\xF0\x9F"),
                                tokenizer.Id("\x98\x80"), tokenizer.Id("b")}),
              ElementsAre("a", "", "😀", "b", ""));
  EXPECT_THAT(PushAll(decoder, {tokenizer.ByteId(0xF0), tokenizer.ByteId(0x9F),
                                tokenizer.ByteId(0x98), tokenizer.ByteId(0x80), tokenizer.Id("a")}),
              ElementsAre("", "", "", "", "😀a", ""));
  // A stream that ends inside a character ends with U+FFFD, as Decode does.
  EXPECT_THAT(PushAll(decoder, {tokenizer.Id("a"), tokenizer.Id("\xF0\x9F")}),
              ElementsAre("a", "", "\uFFFD"));
  // A byte that can never start a character is emitted once the next token shows it is final.
  EXPECT_THAT(PushAll(decoder, {tokenizer.Id("\xFF"), tokenizer.Id("a")}),
              ElementsAre("", "\uFFFDa", ""));
}

TEST(IncrementalDecoderTest, ByteFallbackRunIsFinalOnlyWhenItEnds) {
  // HF's ByteFallback decodes a run as a whole: a stray byte at the end turns the "中" that was
  // complete into three U+FFFD, so "中" must not be emitted while the run can still grow.
  FakeTokenizer tokenizer(/*strip_leading_space=*/false);
  IncrementalDecoder decoder(tokenizer, false);
  EXPECT_THAT(PushAll(decoder, {tokenizer.ByteId(0xE4), tokenizer.ByteId(0xB8),
                                tokenizer.ByteId(0xAD), tokenizer.ByteId(0xFF), tokenizer.Id("a")}),
              ElementsAre("", "", "", "", "\uFFFD\uFFFD\uFFFD\uFFFDa", ""));
  // Skipped special tokens vanish, so the byte runs around them join.
  IncrementalDecoder skipping(tokenizer, true);
  EXPECT_THAT(PushAll(skipping, {tokenizer.ByteId(0xE4), FakeTokenizer::kEos,
                                 tokenizer.ByteId(0xB8), tokenizer.ByteId(0xAD)}),
              ElementsAre("", "", "", "", "中"));
}

TEST(IncrementalDecoderTest, KeepsSpacesThatOnlyTheStartOfTextLoses) {
  FakeTokenizer tokenizer(/*strip_leading_space=*/true);
  const int32_t space_a = tokenizer.Id(
      "\xE2\x96\x81"
      "a");  // "▁a"
  IncrementalDecoder decoder(tokenizer, true);
  EXPECT_THAT(PushAll(decoder, {space_a, space_a, space_a}), ElementsAre("a", " a", " a", ""));
  // A skipped special token first: the first *decoded* token still loses its space...
  EXPECT_THAT(PushAll(decoder, {FakeTokenizer::kBos, space_a, space_a}),
              ElementsAre("", "a", " a", ""));
  // ...and one in the middle of the stream takes no space away.
  EXPECT_THAT(PushAll(decoder, {space_a, FakeTokenizer::kEos, space_a}),
              ElementsAre("a", "", " a", ""));
  // Rendered special tokens are text: the start is "<s>", so nothing is stripped.
  IncrementalDecoder rendering(tokenizer, false);
  EXPECT_THAT(PushAll(rendering, {FakeTokenizer::kBos, space_a, FakeTokenizer::kEos, space_a}),
              ElementsAre("<s>", " a", "</s>", " a", ""));
  // A lone "▁" at the start decodes to nothing until a later token shows what follows it.
  const int32_t space = tokenizer.Id("\xE2\x96\x81");
  EXPECT_THAT(PushAll(decoder, {space, space, tokenizer.Id("a")}), ElementsAre("", " ", "a", ""));
}

TEST(IncrementalDecoderTest, DecodesOnlyAShortWindowPerToken) {
  FakeTokenizer tokenizer(/*strip_leading_space=*/true);
  IncrementalDecoder decoder(tokenizer, true);
  const std::vector<int32_t> ids =
      *tokenizer.Encode("The quick brown fox 😀 jumps over the lazy dog, 你好 and Grüße. ", false);
  tokenizer.ResetStats();
  std::string streamed;
  for (int repeat = 0; repeat < 200; ++repeat) {
    for (const int32_t id : ids) streamed += *decoder.Push(id);
  }
  // The window holds the anchor, the last emitted chunk and the pending tokens (here at most a
  // 6-byte fallback run), however long the stream.
  EXPECT_LE(tokenizer.max_decode_length(), 16u);
  EXPECT_GT(streamed.size(), 1000u);
}

TEST(IncrementalDecoderTest, RejectsIdsOutsideTheVocabulary) {
  FakeTokenizer tokenizer(/*strip_leading_space=*/false);
  IncrementalDecoder decoder(tokenizer, false);
  EXPECT_EQ(*decoder.Push(tokenizer.Id("a")), "a");
  for (const int32_t bad : {-1, tokenizer.VocabSize()}) {
    absl::StatusOr<std::string> piece = decoder.Push(bad);
    ASSERT_FALSE(piece.ok());
    EXPECT_EQ(piece.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(piece.status().message(), HasSubstr(absl::StrCat("token id ", bad)));
  }
  // The bad ids changed nothing.
  EXPECT_EQ(*decoder.Push(tokenizer.Id("b")), "b");
  EXPECT_EQ(decoder.Flush(), "");
}

// --- Tests against the SentencePiece fixtures. -----------------------------------------------

class SentencePieceStreamingTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadSentencePieceTokenizer(
        absl::StrCat(testing::SourceDir(), "/tests/core/tokenizer/testdata/", GetParam()));
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = *std::move(tokenizer);
  }
  std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_P(SentencePieceStreamingTest, RandomIdSequencesStreamLikeDecode) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::vector<int32_t> ids = RandomIds(rng, tokenizer_->VocabSize(), 24);
    for (const bool skip : {false, true}) {
      ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(*tokenizer_, ids, skip)) << "sequence " << i;
    }
  }
}

TEST_P(SentencePieceStreamingTest, EncodedTextStreamsLikeDecode) {
  for (const char* text : MultilingualTexts()) {
    for (const bool add_special : {false, true}) {
      absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode(text, add_special);
      ASSERT_TRUE(ids.ok()) << ids.status();
      for (const bool skip : {false, true}) {
        ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(*tokenizer_, *ids, skip)) << text;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SentencePieceStreamingTest,
                         ::testing::Values("spm_bpe.model", "spm_unigram.model"));

// --- Tests against small tokenizer.json files (the Hugging Face-compatible loader). ----------
// The real Llama 3, Llama 2 and GPT-2 files are streamed in tests/tokenizer_reference against
// Hugging Face's own decode; these tiny ones keep the same decoders under test without Node.

class TokenizerJsonStreamingTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const bool byte_level = GetParam();
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
        LoadHfTokenizerJson(byte_level ? testing::TinyByteLevelTokenizerJson()
                                       : testing::TinySentencePieceStyleTokenizerJson(),
                            byte_level ? "tiny_byte_level.json" : "tiny_sentencepiece_style.json");
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = *std::move(tokenizer);
  }
  std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_P(TokenizerJsonStreamingTest, RandomIdSequencesStreamLikeDecode) {
  std::mt19937 rng(GetParam() ? 11 : 12);
  for (int i = 0; i < 3000; ++i) {
    const std::vector<int32_t> ids = RandomIds(rng, tokenizer_->VocabSize(), 24);
    for (const bool skip : {false, true}) {
      ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(*tokenizer_, ids, skip)) << "sequence " << i;
    }
  }
}

TEST_P(TokenizerJsonStreamingTest, EncodedTextStreamsLikeDecode) {
  for (const char* text : MultilingualTexts()) {
    for (const bool add_special : {false, true}) {
      absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode(text, add_special);
      ASSERT_TRUE(ids.ok()) << ids.status();
      for (const bool skip : {false, true}) {
        ASSERT_NO_FATAL_FAILURE(ExpectStreamsLikeDecode(*tokenizer_, *ids, skip)) << text;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ByteLevelOrSentencePieceStyle, TokenizerJsonStreamingTest,
                         ::testing::Bool());

}  // namespace
}  // namespace ember
