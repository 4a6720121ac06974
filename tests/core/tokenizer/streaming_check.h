// Test helpers for streaming detokenization (IncrementalDecoder): a UTF-8 toolkit that does not
// share code with core/tokenizer, the streaming contract as a gtest check, and shared inputs.
#ifndef EMBER_TESTS_CORE_TOKENIZER_STREAMING_CHECK_H_
#define EMBER_TESTS_CORE_TOKENIZER_STREAMING_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/tokenizer/tokenizer.h"

namespace ember::testing {

// Whether `text` is well-formed UTF-8 (Unicode Table 3-7: no overlongs, surrogates, > U+10FFFF).
bool IsValidUtf8(const std::string& text);

// Rust's String::from_utf8_lossy: each maximal ill-formed subpart becomes one U+FFFD.
std::string Utf8Lossy(const std::string& bytes);

// Streams `ids` through an IncrementalDecoder and checks the contract with gtest assertions: the
// pieces concatenate to Decode(ids), every piece is valid UTF-8, and the text emitted so far is
// always a prefix of the final text (nothing was emitted too early). Use under
// ASSERT_NO_FATAL_FAILURE.
void ExpectStreamsLikeDecode(const Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                             bool skip_special_tokens);

// 0..max_length ids drawn uniformly from [0, vocab_size).
std::vector<int32_t> RandomIds(std::mt19937& rng, int32_t vocab_size, size_t max_length);

// Short texts in many scripts, with emoji sequences, combining marks, odd whitespace and
// special-token text.
absl::Span<const char* const> MultilingualTexts();

}  // namespace ember::testing

#endif  // EMBER_TESTS_CORE_TOKENIZER_STREAMING_CHECK_H_
