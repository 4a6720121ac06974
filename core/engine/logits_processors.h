// Logits processors of transformers' generate(), over one row of f32 scores [vocab]. Each one
// works in place, ignores out-of-range token ids (they can come from a client or a config), and is
// pure: the beam search and the engine call them in the order docs/MARIAN.md fixes.
#ifndef EMBER_CORE_ENGINE_LOGITS_PROCESSORS_H_
#define EMBER_CORE_ENGINE_LOGITS_PROCESSORS_H_

#include <cstdint>

#include "absl/types/span.h"

namespace ember {

// transformers' NoRepeatNGramLogitsProcessor. `sequence` is the whole decoder sequence
// ([decoder_start] + generated). With m = sequence.size(), when m + 1 >= n, every n-gram already in
// `sequence` whose first n - 1 tokens equal the last n - 1 tokens of `sequence` bans its last
// token (-inf); n = 1 bans every token of `sequence`. n <= 0 is a no-op.
void BanNoRepeatNgrams(absl::Span<const int32_t> sequence, int n, float* scores, int64_t vocab);

// bad_words_ids' single-token entries: each of `tokens` gets -inf.
void BanTokens(absl::Span<const int32_t> tokens, float* scores, int64_t vocab);

// transformers' ForcedEOSTokenLogitsProcessor: every entry becomes -inf except `token`, which
// becomes 0. An out-of-range `token` leaves the row unchanged (forcing nothing beats forcing an
// empty distribution).
void ForceToken(int32_t token, float* scores, int64_t vocab);

// In-place log-softmax in the order of operations of PyTorch's CPU kernel, x - max - log(sum), with
// the sum of exponentials accumulated in double. NaN counts as -inf and -inf entries stay -inf.
// Rows that PyTorch would turn into NaN get a defined answer instead: a row without a finite or
// +inf entry is left all -inf, and +inf entries share the probability mass equally (log(1/count))
// while every other entry gets -inf.
void LogSoftmax(float* scores, int64_t vocab);

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_LOGITS_PROCESSORS_H_
