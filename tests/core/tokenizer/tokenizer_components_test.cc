// Each tokenizer.json feature (split behaviours, pre-tokenizers, normalizers, added-token options,
// post-processors, decoders, BPE model options) on small files, compared with what Hugging Face
// tokenizers 0.23.2 (npm) did on the same files: testdata/component_cases.json lists each variant
// (a testdata base with its placeholders replaced) and the recorded ids and decoded texts.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/util/file_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

std::string TestdataPath(absl::string_view name) {
  return absl::StrCat(::ember::testing::SourceDir(), "/tests/core/tokenizer/testdata/", name);
}

// JSON text for each placeholder of a base; an empty string keeps the default (null for the
// components, [] for added_tokens, nothing for model options).
struct Snippets {
  std::string normalizer;
  std::string pre_tokenizer;
  std::string post_processor;
  std::string decoder;
  std::string added_tokens;
  std::string model_options;  // object members, e.g. `"byte_fallback": true`
};

struct Row {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;                   // Decode(ids, skip_special_tokens = false)
  std::string decoded_skipping_special;  // Decode(ids, skip_special_tokens = true)
};

struct ComponentCase {
  std::string name;
  std::string base;
  Snippets snippets;
  bool add_special_tokens = false;
  std::vector<Row> rows;
};

std::string Or(const std::string& snippet, const char* fallback) {
  return snippet.empty() ? fallback : snippet;
}

// The base file with its placeholders replaced (see testdata/make_testdata.py).
std::string BuildJson(const std::string& base, const Snippets& s) {
  auto text = ReadFileToString(TestdataPath(base));
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok()) return "";
  return absl::StrReplaceAll(*text,
                             {{"\"@NORMALIZER@\"", Or(s.normalizer, "null")},
                              {"\"@PRE_TOKENIZER@\"", Or(s.pre_tokenizer, "null")},
                              {"\"@POST_PROCESSOR@\"", Or(s.post_processor, "null")},
                              {"\"@DECODER@\"", Or(s.decoder, "null")},
                              {"\"@ADDED_TOKENS@\"", Or(s.added_tokens, "[]")},
                              {"\"@MODEL_OPTIONS@\": null,",
                               s.model_options.empty() ? "" : absl::StrCat(s.model_options, ",")}});
}

// Reads testdata/component_cases.json. A file that cannot be read gives one case named
// "UnreadableCaseFile" whose base is empty, so the test fails loudly instead of running nothing.
std::vector<ComponentCase> LoadCases() {
  std::vector<ComponentCase> cases;
  auto text = ReadFileToString(TestdataPath("component_cases.json"));
  nlohmann::json doc = nlohmann::json::parse(text.ok() ? *text : "", nullptr, false);
  if (doc.is_discarded() || !doc.contains("cases")) {
    cases.push_back({"UnreadableCaseFile", "", {}, false, {}});
    return cases;
  }
  for (const nlohmann::json& c : doc["cases"]) {
    ComponentCase out;
    out.name = c["name"];
    out.base = c["base"];
    out.add_special_tokens = c["add_special_tokens"];
    const nlohmann::json& s = c["snippets"];
    auto snippet = [&s](const char* key) { return s.contains(key) ? s[key].dump() : ""; };
    out.snippets.normalizer = snippet("normalizer");
    out.snippets.pre_tokenizer = snippet("pre_tokenizer");
    out.snippets.post_processor = snippet("post_processor");
    out.snippets.decoder = snippet("decoder");
    out.snippets.added_tokens = snippet("added_tokens");
    if (s.contains("model_options")) {
      const std::string object = s["model_options"].dump();
      out.snippets.model_options = object.substr(1, object.size() - 2);
    }
    for (const nlohmann::json& r : c["rows"]) {
      out.rows.push_back({r["text"], r["ids"].get<std::vector<int32_t>>(), r["decoded"],
                          r["decoded_skipping_special"]});
    }
    cases.push_back(std::move(out));
  }
  return cases;
}

class ComponentTest : public ::testing::TestWithParam<ComponentCase> {};

TEST_P(ComponentTest, MatchesHuggingFace) {
  const ComponentCase& c = GetParam();
  ASSERT_FALSE(c.base.empty()) << "cannot read " << TestdataPath("component_cases.json");
  auto tokenizer = LoadHfTokenizerJson(BuildJson(c.base, c.snippets), c.name);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  for (const Row& row : c.rows) {
    SCOPED_TRACE(absl::StrCat("text: \"", row.text, "\""));
    auto ids = (*tokenizer)->Encode(row.text, c.add_special_tokens);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, row.ids);
    auto decoded = (*tokenizer)->Decode(row.ids, false);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, row.decoded);
    auto skipped = (*tokenizer)->Decode(row.ids, true);
    ASSERT_TRUE(skipped.ok()) << skipped.status();
    EXPECT_EQ(*skipped, row.decoded_skipping_special);
  }
}

INSTANTIATE_TEST_SUITE_P(HuggingFace, ComponentTest, ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<ComponentCase>& param_info) {
                           return param_info.param.name;
                         });

std::string AddedToken(int id, const std::string& content, bool normalized, bool special) {
  return absl::StrCat("{\"id\": ", id, ", \"content\": \"", content,
                      "\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                      "\"normalized\": ",
                      normalized ? "true" : "false", ", \"special\": ", special ? "true" : "false",
                      "}");
}

// Recorded from tokenizers 0.23.2 on the same file: a normalized added token is matched (and
// decoded, and named by IdToToken) in its normalized form, while TokenToId answers for the content
// as written; among overlapping added tokens the leftmost, then longest, wins.
TEST(AddedTokensTest, NormalizedFormAndLeftmostLongest) {
  Snippets snippets;
  snippets.normalizer = R"({"type":"Prepend","prepend":"he"})";
  snippets.added_tokens = absl::StrCat(
      "[", AddedToken(107, "x y", true, false), ",", AddedToken(108, "<a>", false, false), ",",
      AddedToken(109, "<a>b", false, false), ",", AddedToken(110, "<a>bc", false, true), "]");
  auto tokenizer = LoadHfTokenizerJson(BuildJson("ascii_base.json", snippets), "added");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Tokenizer& t = **tokenizer;
  auto ids = t.Encode("x<a>by<a>x y<a>bcd", false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int32_t>{99, 88, 109, 99, 89, 108, 107, 110, 99, 68}));
  EXPECT_EQ(t.IdToToken(107), "hex y");
  EXPECT_EQ(t.TokenToId("x y"), 107);
  EXPECT_EQ(t.TokenToId("hex y"), std::nullopt);
  auto decoded = t.Decode(*ids, false);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, "he x <a>b he y <a> hex y <a>bc he d");
  auto skipped = t.Decode(*ids, true);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(*skipped, "he x <a>b he y <a> hex y he d");
}

// Random text (any code point, including the characters the cases single out) through every
// recorded configuration: Encode must succeed and Decode must accept every id it produced.
TEST(ComponentFuzzTest, RandomTextEncodesAndDecodes) {
  const std::vector<char32_t> specials = {
      ' ', ' ', '\n', '\t', '\r', 0x2581, 0x85, 0xA0, 0x3000, 0x180E, 0x200D, 0x301,   '<',
      '>', 's', '/',  '[',  ']',  'm',    '~',  'x',  'y',    '1',    '-',    0x1F44D, 0x4E2D};
  std::mt19937 rng(11);
  auto random_text = [&] {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      char32_t c = rng() % 3 == 0 ? static_cast<char32_t>(rng() % 0x110000)
                                  : specials[rng() % specials.size()];
      if (c >= 0xD800 && c <= 0xDFFF) c = 'a';
      // UTF-8 encoding of c.
      if (c < 0x80) {
        text += static_cast<char>(c);
      } else if (c < 0x800) {
        text += static_cast<char>(0xC0 | (c >> 6));
        text += static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        text += static_cast<char>(0xE0 | (c >> 12));
        text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (c & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (c >> 18));
        text += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return text;
  };
  for (const ComponentCase& c : LoadCases()) {
    if (c.base.empty()) continue;
    SCOPED_TRACE(c.name);
    auto tokenizer = LoadHfTokenizerJson(BuildJson(c.base, c.snippets), c.name);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    for (int round = 0; round < 40; ++round) {
      const std::string text = random_text();
      auto ids = (*tokenizer)->Encode(text, round % 2 == 0);
      ASSERT_TRUE(ids.ok()) << ids.status();
      EXPECT_TRUE((*tokenizer)->Decode(*ids, round % 3 == 0).ok());
      std::vector<int32_t> random_ids;
      for (int i = 0; i < 8; ++i) {
        random_ids.push_back(static_cast<int32_t>(rng() % (*tokenizer)->VocabSize()));
      }
      EXPECT_TRUE((*tokenizer)->Decode(random_ids, round % 2 == 1).ok());
    }
  }
}

TEST(LoadTokenizerTest, PrefersTokenizerJsonAndReportsMissingFiles) {
  ::ember::testing::TempDir dir;
  auto missing = LoadTokenizer(dir.path());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir.path()), std::string::npos);

  // vocab.json + merges.txt that would tokenize differently must lose to tokenizer.json.
  dir.Write("vocab.json", R"({"a": 0, "b": 1})");
  dir.Write("merges.txt", "#version: 0.2\n");
  dir.Write("tokenizer.json", BuildJson("ascii_base.json", {}));
  auto loaded = LoadTokenizer(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->VocabSize(), 107);
}

TEST(LoadTokenizerTest, ClassicFilesWithoutVersionLine) {
  ::ember::testing::TempDir dir;
  dir.Write("vocab.json", R"({"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3})");
  dir.Write("merges.txt", "a b\r\n\n");
  auto loaded = LoadTokenizer(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto ids = (*loaded)->Encode("ab<|endoftext|>ba", false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int32_t>{2, 3, 1, 0}));
  EXPECT_TRUE((*loaded)->IsSpecial(3));
}

}  // namespace
}  // namespace ember
