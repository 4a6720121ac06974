#include "tests/core/tokenizer/tokenizer_fixtures.h"

#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ember::testing {

std::string TokenizerFixturesRoot() {
  const char* env = std::getenv("EMBER_TOKENIZER_FIXTURES");
  return env != nullptr && *env != '\0' ? env : "/tmp/npmtest/node_modules";
}

std::string TokenizerFixture(absl::string_view relative) {
  return absl::StrCat(TokenizerFixturesRoot(), "/", relative);
}

void ExpectCases(const Tokenizer& tokenizer, absl::Span<const EncodeCase> cases,
                 bool add_special_tokens, bool skip_special_tokens) {
  for (const EncodeCase& c : cases) {
    SCOPED_TRACE(absl::StrCat("text: \"", c.text, "\""));
    auto ids = tokenizer.Encode(c.text, add_special_tokens);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, c.ids);
    auto decoded = tokenizer.Decode(c.ids, skip_special_tokens);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, c.decoded);
  }
}

void ExpectSameResultsUnderConcurrency(const Tokenizer& tokenizer,
                                       const std::vector<std::string>& texts, int threads,
                                       int rounds) {
  std::vector<std::vector<int32_t>> expected;
  for (const std::string& text : texts) {
    auto ids = tokenizer.Encode(text, false);
    ASSERT_TRUE(ids.ok()) << ids.status();
    expected.push_back(*ids);
  }
  std::vector<int> failures(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        for (size_t i = 0; i < texts.size(); ++i) {
          // Stagger the order so threads hit the cache with different keys at the same time.
          const size_t k = (i + static_cast<size_t>(t) * 7) % texts.size();
          auto ids = tokenizer.Encode(texts[k], false);
          if (!ids.ok() || *ids != expected[k]) ++failures[t];
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  for (int t = 0; t < threads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace ember::testing
