#include "core/engine/prompt_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

namespace ember {

namespace {
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

float Clean(float v) { return std::isnan(v) ? kMinusInf : v; }
}  // namespace

SampledToken ScoreToken(absl::Span<const float> logits, int32_t token, int32_t top,
                        std::vector<int32_t>& scratch) {
  const int64_t n = static_cast<int64_t>(logits.size());
  float max = kMinusInf;
  for (float v : logits) max = std::max(max, Clean(v));
  // log Z. +inf logits share all the mass (log Z is the log of their count; the others get -inf);
  // a row with nothing above -inf gives -inf everywhere.
  double log_z = 0.0;
  const bool infinite = std::isinf(max);
  if (infinite && max > 0) {
    log_z = std::log(static_cast<double>(std::count(logits.begin(), logits.end(), max)));
  } else if (!infinite) {
    double sum = 0.0;
    for (float v : logits) sum += std::exp(static_cast<double>(Clean(v) - max));
    log_z = max + std::log(sum);
  }
  auto log_prob = [&](int32_t t) -> float {
    const float v = Clean(logits[static_cast<size_t>(t)]);
    if (max == kMinusInf) return kMinusInf;
    if (infinite) return v == max ? static_cast<float>(-log_z) : kMinusInf;
    return static_cast<float>(v - log_z);
  };
  SampledToken result;
  result.token = token;
  result.logprob = log_prob(token);
  if (top > 0) {
    const int64_t k = std::min<int64_t>(top, n);
    scratch.resize(static_cast<size_t>(n));
    std::iota(scratch.begin(), scratch.end(), 0);
    std::partial_sort(scratch.begin(), scratch.begin() + k, scratch.end(),
                      [&](int32_t a, int32_t b) {
                        const float va = Clean(logits[static_cast<size_t>(a)]);
                        const float vb = Clean(logits[static_cast<size_t>(b)]);
                        return va > vb || (va == vb && a < b);
                      });
    for (int64_t i = 0; i < k; ++i) {
      const int32_t t = scratch[static_cast<size_t>(i)];
      result.top.push_back({t, log_prob(t)});
    }
  }
  return result;
}

PromptScorer::PromptScorer(absl::Span<const int32_t> prompt, int32_t top)
    : prompt_(prompt), top_(top) {
  scored_.reserve(prompt.empty() ? 0 : prompt.size() - 1);
}

void PromptScorer::Consume(int64_t position, absl::Span<const float> logits) {
  const int64_t target = position + 1;
  // Entries are appended in order: the next one scores prompt[scored_.size() + 1].
  if (target != static_cast<int64_t>(scored_.size()) + 1) return;
  if (target >= static_cast<int64_t>(prompt_.size())) return;
  scored_.push_back(ScoreToken(logits, prompt_[static_cast<size_t>(target)], top_, order_));
}

bool PromptScorer::done() const { return scored_.size() + 1 >= prompt_.size(); }

std::vector<SampledToken> PromptScorer::Take() { return std::move(scored_); }

}  // namespace ember
