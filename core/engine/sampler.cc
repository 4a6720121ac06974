#include "core/engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/kernels/exp_sum.h"

namespace ember {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// Index of the largest logit, lowest id on ties; -1 when none is > -inf.
int64_t ArgMax(const float* logits, int64_t n) {
  int64_t best = -1;
  float best_value = kMinusInf;
  for (int64_t i = 0; i < n; ++i) {
    if (logits[i] > best_value) {
      best_value = logits[i];
      best = i;
    }
  }
  return best;
}

// log(sum(exp(logits))) with the max factored out; `max` must be finite.
double LogSumExp(const float* logits, int64_t n, float max) {
  return max + std::log(SumExpShifted(logits, n, max));
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, uint64_t seed, absl::Span<const int32_t> prompt)
    : params_(params), random_(seed) {
  for (int32_t t : prompt) ++prompt_counts_[t];
}

void Sampler::ApplyPenalties(float* logits, int64_t vocab_size) const {
  auto in_range = [&](int32_t t) { return t >= 0 && t < vocab_size; };
  if (params_.repetition_penalty != 1.0f) {
    // Hugging Face RepetitionPenaltyLogitsProcessor: every token of prompt and output, once.
    auto penalize = [&](int32_t t) {
      float& v = logits[t];
      v = v > 0 ? v / params_.repetition_penalty : v * params_.repetition_penalty;
    };
    for (const auto& [t, n] : prompt_counts_) {
      if (in_range(t)) penalize(t);
    }
    for (const auto& [t, n] : output_counts_) {
      if (in_range(t) && !prompt_counts_.contains(t)) penalize(t);
    }
  }
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) {
    for (const auto& [t, n] : output_counts_) {
      if (!in_range(t)) continue;
      logits[t] -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(n);
    }
  }
}

SampledToken Sampler::Sample(float* logits, int64_t vocab_size) {
  for (int64_t i = 0; i < vocab_size; ++i) {
    if (std::isnan(logits[i])) logits[i] = kMinusInf;
  }
  ApplyPenalties(logits, vocab_size);
  SampledToken result;
  const int64_t best = ArgMax(logits, vocab_size);
  if (best < 0) {  // nothing finite: a defined, in-range answer rather than garbage
    result.token = 0;
    result.logprob = kMinusInf;
    ++output_counts_[0];
    return result;
  }
  const float max = logits[best];
  const bool want_logprobs = params_.logprobs || params_.top_logprobs > 0;
  // +inf logits share all the mass equally (log_z is then the log of their count) and every other
  // token has none; logit - log_z would give inf - inf = NaN for them.
  const bool infinite = std::isinf(max);
  double log_z = 0.0;
  auto log_prob = [&](int32_t t) {
    if (infinite) return logits[t] == max ? static_cast<float>(-log_z) : kMinusInf;
    return static_cast<float>(logits[t] - log_z);
  };
  if (want_logprobs) {
    if (infinite) {
      log_z = std::log(static_cast<double>(std::count(logits, logits + vocab_size, max)));
    } else {
      log_z = LogSumExp(logits, vocab_size, max);
    }
    if (params_.top_logprobs > 0) {
      const int64_t k = std::min<int64_t>(params_.top_logprobs, vocab_size);
      candidates_.resize(static_cast<size_t>(vocab_size));
      std::iota(candidates_.begin(), candidates_.end(), 0);
      std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(),
                        [&](int32_t a, int32_t b) {
                          return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                        });
      for (int64_t i = 0; i < k; ++i) {
        const int32_t t = candidates_[static_cast<size_t>(i)];
        result.top.push_back({t, log_prob(t)});
      }
    }
  }

  int32_t chosen = static_cast<int32_t>(best);
  if (params_.temperature > 0.0f && !infinite) {
    // Candidates sorted by logit (ties by id, so the order is fully determined), truncated by
    // top-k, then by min-p and top-p on the tempered distribution.
    candidates_.clear();
    for (int64_t i = 0; i < vocab_size; ++i) {
      if (logits[i] > kMinusInf) candidates_.push_back(static_cast<int32_t>(i));
    }
    auto by_logit = [&](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    };
    size_t keep = candidates_.size();
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
      keep = static_cast<size_t>(params_.top_k);
      std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<long>(keep),
                        candidates_.end(), by_logit);
    } else {
      std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    candidates_.resize(keep);
    const double inv_t = 1.0 / params_.temperature;
    std::vector<double> probs(keep);
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) {
      probs[i] = std::exp((static_cast<double>(logits[candidates_[i]]) - max) * inv_t);
      total += probs[i];
    }
    // Hugging Face's warper order: top-k (above), then top-p, then min-p.
    if (params_.top_p < 1.0f) {
      // The smallest prefix whose mass reaches top_p (always at least one token).
      const double target_mass = params_.top_p * total;
      double mass = 0.0;
      size_t n = 0;
      while (n < keep) {
        mass += probs[n++];
        if (mass >= target_mass) break;
      }
      keep = n;
    }
    if (params_.min_p > 0.0f) {
      // probs[0] is the most likely token's (unnormalized) probability.
      const double threshold = params_.min_p * probs[0];
      size_t n = 1;
      while (n < keep && probs[n] >= threshold) ++n;
      keep = n;
    }
    total = 0.0;
    for (size_t i = 0; i < keep; ++i) total += probs[i];
    const double target = random_.Uniform() * total;
    double cumulative = 0.0;
    chosen = candidates_[keep - 1];
    for (size_t i = 0; i < keep; ++i) {
      cumulative += probs[i];
      if (target < cumulative) {
        chosen = candidates_[i];
        break;
      }
    }
  }
  result.token = chosen;
  if (want_logprobs) result.logprob = log_prob(chosen);
  ++output_counts_[chosen];
  return result;
}

}  // namespace ember
