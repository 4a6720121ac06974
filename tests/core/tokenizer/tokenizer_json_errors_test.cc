// Malformed or unsupported tokenizer files: each must fail with INVALID_ARGUMENT (NOT_FOUND for a
// missing file) and a message naming the file and the offending field.
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kSource[] = "dir/tokenizer.json";

// A valid file; tests replace one part of it. Vocabulary: a=0, b=1, ab=2, <s>=3.
constexpr char kValid[] = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 3, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
     "normalized": false, "special": true}
  ],
  "normalizer": null,
  "pre_tokenizer": null,
  "post_processor": null,
  "decoder": null,
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "fuse_unk": false,
            "byte_fallback": false, "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3},
            "merges": ["a b"]}
})";

std::string With(const std::string& from, const std::string& to) {
  std::string json = kValid;
  const size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) json.replace(at, from.size(), to);
  return json;
}

absl::Status Load(const std::string& json) { return LoadHfTokenizerJson(json, kSource).status(); }

MATCHER_P(IsInvalidArgumentMentioning, field, "") {
  if (arg.code() != absl::StatusCode::kInvalidArgument) {
    *result_listener << "code is " << arg;
    return false;
  }
  const std::string message(arg.message());
  if (message.find(kSource) != 0 || message.find(field) == std::string::npos) {
    *result_listener << "message is \"" << message << "\"";
    return false;
  }
  return true;
}

TEST(TokenizerJsonErrorsTest, ValidBaseLoads) {
  auto tokenizer = LoadHfTokenizerJson(kValid, kSource);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto ids = (*tokenizer)->Encode("ab<s>ba", false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int32_t>{2, 3, 1, 0}));
}

TEST(TokenizerJsonErrorsTest, NotJson) {
  EXPECT_THAT(Load("{\"model\": "), IsInvalidArgumentMentioning("invalid JSON"));
  EXPECT_THAT(Load("[1, 2]"), IsInvalidArgumentMentioning("expected an object"));
  EXPECT_THAT(Load(std::string(200, '[') + std::string(200, ']')),
              IsInvalidArgumentMentioning("nested more than"));
  EXPECT_THAT(Load(With("\"a\": 0", "\"\xff\": 0")), IsInvalidArgumentMentioning("invalid JSON"));
}

TEST(TokenizerJsonErrorsTest, ModelMissingOrUnsupported) {
  EXPECT_THAT(Load("{}"), IsInvalidArgumentMentioning("model"));
  EXPECT_THAT(Load(With("\"type\": \"BPE\"", "\"type\": \"WordPiece\"")),
              IsInvalidArgumentMentioning("model.type: unsupported model type \"WordPiece\""));
  EXPECT_THAT(Load(With("\"type\": \"BPE\"", "\"type\": \"Unigram\"")),
              IsInvalidArgumentMentioning("model.type: unsupported model type \"Unigram\""));
  EXPECT_THAT(Load(With("\"dropout\": null", "\"dropout\": 0.1")),
              IsInvalidArgumentMentioning("model.dropout"));
}

TEST(TokenizerJsonErrorsTest, MergesOutsideTheVocabulary) {
  EXPECT_THAT(Load(With("[\"a b\"]", "[\"a c\"]")),
              IsInvalidArgumentMentioning("model.merges: merge 0 (\"a c\"): \"c\""));
  // Both parts exist but their concatenation does not.
  EXPECT_THAT(Load(With("[\"a b\"]", "[\"b a\"]")),
              IsInvalidArgumentMentioning("model.merges: merge 0 (\"b a\"): \"ba\""));
  EXPECT_THAT(Load(With("[\"a b\"]", "[\"a b\", \"ab\"]")),
              IsInvalidArgumentMentioning("model.merges[1]"));
  EXPECT_THAT(Load(With("[\"a b\"]", "[[\"a\"]]")), IsInvalidArgumentMentioning("model.merges[0]"));
  EXPECT_THAT(Load(With("[\"a b\"]", "{}")), IsInvalidArgumentMentioning("model.merges"));
  // The pair form of the same merges is accepted.
  EXPECT_TRUE(Load(With("[\"a b\"]", "[[\"a\", \"b\"]]")).ok());
}

TEST(TokenizerJsonErrorsTest, VocabularyIds) {
  EXPECT_THAT(Load(With("\"ab\": 2", "\"ab\": 1")),
              IsInvalidArgumentMentioning("model.vocab: id 1 is used by both"));
  EXPECT_THAT(Load(With("\"ab\": 2", "\"ab\": -2")),
              IsInvalidArgumentMentioning("model.vocab: token \"ab\" has id -2"));
  EXPECT_THAT(Load(With("\"ab\": 2", "\"ab\": 99999999999")),
              IsInvalidArgumentMentioning("model.vocab: token \"ab\" has id 99999999999"));
  EXPECT_THAT(Load(With("\"ab\": 2", "\"ab\": 2.5")),
              IsInvalidArgumentMentioning("model.vocab: token \"ab\""));
  EXPECT_THAT(Load(With("\"ab\": 2", "\"ab\": \"2\"")),
              IsInvalidArgumentMentioning("model.vocab: token \"ab\""));
  EXPECT_THAT(Load(With("\"vocab\": {", "\"vocab\": [], \"x\": {")),
              IsInvalidArgumentMentioning("model.vocab: expected an object"));
}

TEST(TokenizerJsonErrorsTest, AddedTokenIds) {
  // <s> is vocabulary token 3, so it cannot be added as 4.
  EXPECT_THAT(Load(With("{\"id\": 3, \"content\": \"<s>\"", "{\"id\": 4, \"content\": \"<s>\"")),
              IsInvalidArgumentMentioning("added_tokens[0].id"));
  // A new token must take the next id (4); 2 belongs to "ab", 7 leaves a gap.
  EXPECT_THAT(Load(With("{\"id\": 3, \"content\": \"<s>\"", "{\"id\": 2, \"content\": \"<x>\"")),
              IsInvalidArgumentMentioning("added_tokens[0].id"));
  EXPECT_THAT(Load(With("{\"id\": 3, \"content\": \"<s>\"", "{\"id\": 7, \"content\": \"<x>\"")),
              IsInvalidArgumentMentioning("gives it id 4"));
  // Two added tokens on one id.
  EXPECT_THAT(
      Load(With("\"special\": true}", "\"special\": true}, {\"id\": 3, \"content\": \"<t>\"}")),
      IsInvalidArgumentMentioning("added_tokens[1].id"));
  EXPECT_THAT(Load(With("\"special\": true}", "\"special\": true}, {\"content\": \"<t>\"}")),
              IsInvalidArgumentMentioning("added_tokens[1].id: missing"));
  EXPECT_THAT(Load(With("\"special\": true}", "\"special\": \"yes\"}")),
              IsInvalidArgumentMentioning("added_tokens[0].special"));
  // The next free id is accepted, and a repeat of an entry is harmless.
  EXPECT_TRUE(Load(With("\"special\": true}",
                        "\"special\": true}, {\"id\": 4, \"content\": \"<t>\"}, "
                        "{\"id\": 3, \"content\": \"<s>\"}"))
                  .ok());
}

TEST(TokenizerJsonErrorsTest, UnsupportedComponentsAreNamed) {
  EXPECT_THAT(Load(With("\"normalizer\": null", "\"normalizer\": {\"type\": \"Lowercase\"}")),
              IsInvalidArgumentMentioning("normalizer.type: unsupported normalizer \"Lowercase\""));
  EXPECT_THAT(
      Load(With(
          "\"normalizer\": null",
          "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"BertNormalizer\"}]}")),
      IsInvalidArgumentMentioning(
          "normalizer.normalizers[0].type: unsupported normalizer \"BertNormalizer\""));
  EXPECT_THAT(
      Load(With("\"pre_tokenizer\": null", "\"pre_tokenizer\": {\"type\": \"UnicodeScripts\"}")),
      IsInvalidArgumentMentioning("pre_tokenizer.type: unsupported pre_tokenizer"));
  EXPECT_THAT(Load(With("\"decoder\": null", "\"decoder\": {\"type\": \"WordPiece\"}")),
              IsInvalidArgumentMentioning("decoder.type: unsupported decoder \"WordPiece\""));
  EXPECT_THAT(Load(With("\"post_processor\": null", "\"post_processor\": {\"type\": \"Magic\"}")),
              IsInvalidArgumentMentioning("post_processor.type: unsupported post_processor"));
  EXPECT_THAT(Load(With("\"decoder\": null", "\"decoder\": 3")),
              IsInvalidArgumentMentioning("decoder: expected an object"));
}

TEST(TokenizerJsonErrorsTest, BadComponentFields) {
  EXPECT_THAT(Load(With("\"pre_tokenizer\": null",
                        R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"},
                            "behavior": "Isolated", "invert": false})")),
              IsInvalidArgumentMentioning("pre_tokenizer.pattern.Regex"));
  EXPECT_THAT(Load(With("\"pre_tokenizer\": null",
                        R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[a&&b]"},
                            "behavior": "Isolated", "invert": false})")),
              IsInvalidArgumentMentioning("pre_tokenizer.pattern.Regex"));
  EXPECT_THAT(Load(With("\"pre_tokenizer\": null",
                        R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a"},
                            "behavior": "Sideways", "invert": false})")),
              IsInvalidArgumentMentioning("pre_tokenizer.behavior"));
  EXPECT_THAT(Load(With("\"pre_tokenizer\": null",
                        R"("pre_tokenizer": {"type": "Split", "pattern": {"Glob": "a"},
                            "behavior": "Isolated", "invert": false})")),
              IsInvalidArgumentMentioning("pre_tokenizer.pattern"));
  // tokenizers refuses add_prefix_space: false next to the default prepend_scheme "always".
  EXPECT_THAT(Load(With("\"pre_tokenizer\": null",
                        R"("pre_tokenizer": {"type": "Metaspace", "replacement": "_",
                            "add_prefix_space": false})")),
              IsInvalidArgumentMentioning("pre_tokenizer.add_prefix_space"));
  EXPECT_THAT(Load(With("\"pre_tokenizer\": null",
                        R"("pre_tokenizer": {"type": "Metaspace", "replacement": "__"})")),
              IsInvalidArgumentMentioning("pre_tokenizer.replacement"));
  EXPECT_THAT(Load(With("\"unk_token\": null", "\"unk_token\": \"<unk>\"")),
              IsInvalidArgumentMentioning("model.unk_token"));
  EXPECT_THAT(Load(With("\"post_processor\": null",
                        R"("post_processor": {"type": "TemplateProcessing",
                            "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}],
                            "special_tokens": {}})")),
              IsInvalidArgumentMentioning("post_processor.single[0].SpecialToken.id"));
  EXPECT_THAT(Load(With("\"post_processor\": null",
                        R"("post_processor": {"type": "TemplateProcessing",
                            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}],
                            "special_tokens": {"<s>": {"id": "<s>", "ids": [77], "tokens": ["<s>"]}}})")),
              IsInvalidArgumentMentioning("post_processor.special_tokens.<s>.ids: id 77"));
}

// Deterministic corruptions of a valid file (byte flips, truncation) must load or fail cleanly.
TEST(TokenizerJsonErrorsTest, CorruptedFilesNeverCrash) {
  std::mt19937 rng(7);
  const std::string valid = kValid;
  const std::string alphabet = "{}[]\":,0123456789-.e aEtrufnl\\\xff\xc3";
  for (int round = 0; round < 2000; ++round) {
    std::string json = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % json.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          json[at] = c;
          break;
        case 1:
          json.erase(at, 1 + rng() % 8);
          break;
        default:
          json.insert(at, 1, c);
      }
      // (assign, not `= "{"`: GCC 12 reports a false -Wrestrict for the latter here)
      if (json.empty()) json.assign(1, '{');
    }
    auto tokenizer = LoadHfTokenizerJson(json, kSource);
    if (tokenizer.ok()) {
      EXPECT_TRUE((*tokenizer)->Encode("ab<s>ba", true).ok());
    } else {
      EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument) << json;
      EXPECT_EQ(tokenizer.status().message().find(kSource), 0u) << tokenizer.status();
    }
  }
}

TEST(TokenizerJsonErrorsTest, MissingFileIsNotFound) {
  auto missing = LoadHfTokenizerJsonFile("/nonexistent/dir/tokenizer.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  auto classic = LoadGpt2VocabMerges("/nonexistent/vocab.json", "/nonexistent/merges.txt");
  EXPECT_EQ(classic.status().code(), absl::StatusCode::kNotFound);
}

TEST(Gpt2FilesErrorsTest, NameTheFileAndLine) {
  const char kVocab[] = R"({"a": 0, "b": 1, "ab": 2})";
  EXPECT_TRUE(LoadGpt2VocabMergesFromText(kVocab, "#version: 0.2\na b\n", "v.json", "m.txt").ok());
  auto bad_line =
      LoadGpt2VocabMergesFromText(kVocab, "#version: 0.2\na b\nab\n", "v.json", "m.txt");
  EXPECT_EQ(bad_line.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_line.status().message(), AllOf(HasSubstr("m.txt: line 3"), HasSubstr("\"ab\"")));
  auto unknown = LoadGpt2VocabMergesFromText(kVocab, "a c\n", "v.json", "m.txt");
  EXPECT_THAT(unknown.status().message(), AllOf(HasSubstr("m.txt"), HasSubstr("\"c\"")));
  auto bad_vocab = LoadGpt2VocabMergesFromText(R"({"a": 0, "b": 0})", "", "v.json", "m.txt");
  EXPECT_EQ(bad_vocab.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_vocab.status().message(), HasSubstr("v.json"));
  auto not_json = LoadGpt2VocabMergesFromText("nope", "", "v.json", "m.txt");
  EXPECT_THAT(not_json.status().message(), HasSubstr("v.json: invalid JSON"));
}

}  // namespace
}  // namespace ember
