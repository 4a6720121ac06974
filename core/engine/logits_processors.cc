#include "core/engine/logits_processors.h"

#include <cmath>
#include <limits>

#include "core/kernels/exp_sum.h"
#include "core/kernels/row_scan.h"

namespace ember {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
constexpr float kPlusInf = std::numeric_limits<float>::infinity();

bool InRange(int32_t token, int64_t vocab) { return token >= 0 && token < vocab; }

}  // namespace

void BanNoRepeatNgrams(absl::Span<const int32_t> sequence, int n, float* scores, int64_t vocab) {
  if (n <= 0 || scores == nullptr) return;
  const int64_t m = static_cast<int64_t>(sequence.size());
  // transformers returns early when cur_len + 1 < n; the loop below is then empty anyway (it needs
  // j + n - 1 < m), the check only states the rule.
  if (m + 1 < n) return;
  // The last n - 1 tokens are the prefix the next token would complete into an n-gram; the
  // n-grams start at j = 0 .. m - n (the decoder start token included).
  const int64_t prefix_start = m - n + 1;
  for (int64_t j = 0; j + n - 1 < m; ++j) {
    bool match = true;
    for (int64_t k = 0; k < n - 1; ++k) {
      if (sequence[static_cast<size_t>(j + k)] != sequence[static_cast<size_t>(prefix_start + k)]) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    const int32_t banned = sequence[static_cast<size_t>(j + n - 1)];
    if (InRange(banned, vocab)) scores[banned] = kMinusInf;
  }
}

void BanTokens(absl::Span<const int32_t> tokens, float* scores, int64_t vocab) {
  if (scores == nullptr) return;
  for (int32_t t : tokens) {
    if (InRange(t, vocab)) scores[t] = kMinusInf;
  }
}

void ForceToken(int32_t token, float* scores, int64_t vocab) {
  if (scores == nullptr || !InRange(token, vocab)) return;
  for (int64_t i = 0; i < vocab; ++i) scores[i] = kMinusInf;
  scores[token] = 0.0f;
}

void LogSoftmax(float* scores, int64_t vocab) {
  if (scores == nullptr || vocab <= 0) return;
  bool has_nan = false;
  const float max = MaxIgnoringNaN(scores, vocab, &has_nan);
  if (has_nan) {
    for (int64_t i = 0; i < vocab; ++i) {
      if (std::isnan(scores[i])) scores[i] = kMinusInf;
    }
  }
  if (max == kMinusInf) return;  // nothing has any mass: every entry already is -inf
  if (max == kPlusInf) {
    // x - max would be inf - inf = NaN; the +inf entries are the whole distribution.
    int64_t count = 0;
    for (int64_t i = 0; i < vocab; ++i) count += scores[i] == kPlusInf ? 1 : 0;
    const float log_share = static_cast<float>(-std::log(static_cast<double>(count)));
    for (int64_t i = 0; i < vocab; ++i) scores[i] = scores[i] == kPlusInf ? log_share : kMinusInf;
    return;
  }
  const double sum = SumExpShifted(scores, vocab, max);
  // sum >= 1 (the max contributes exp(0)), so the log is finite and >= 0. Subtracting max first and
  // log(sum) second keeps the precision of large inputs, as PyTorch does.
  const float log_sum = static_cast<float>(std::log(sum));
  for (int64_t i = 0; i < vocab; ++i) scores[i] = (scores[i] - max) - log_sum;
}

}  // namespace ember
