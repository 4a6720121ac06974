// Turns one row of logits into the next token for one sequence: penalties, temperature, top-k,
// top-p, min-p, a seeded draw, and log-probabilities. Each sequence owns its Sampler (its random
// stream and token counts), so results do not depend on what else is in the batch.
#ifndef EMBER_CORE_ENGINE_SAMPLER_H_
#define EMBER_CORE_ENGINE_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "core/engine/random.h"
#include "core/engine/sampling_params.h"

namespace ember {

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0.0f;
};

struct SampledToken {
  int32_t token = 0;
  // Log-probability of `token` under the model's distribution after the repetition, presence and
  // frequency penalties and before temperature and truncation (top-k/p, min-p); 0 unless
  // params.logprobs or params.top_logprobs.
  float logprob = 0.0f;
  // The params.top_logprobs most likely tokens under that same distribution, most likely first.
  std::vector<TokenLogprob> top;
};

class Sampler {
 public:
  // `params` must have passed ValidateSamplingParams (request_validation.h). `seed` is params.seed
  // or one the engine drew.
  // `prompt` feeds the repetition penalty.
  Sampler(const SamplingParams& params, uint64_t seed, absl::Span<const int32_t> prompt);

  // Picks the next token from `logits` (vocab_size values; used as scratch and modified) and
  // records it as generated. NaN logits count as -inf; if no token has a finite logit the result
  // is token 0. The returned id is always in [0, vocab_size).
  SampledToken Sample(float* logits, int64_t vocab_size);

 private:
  void ApplyPenalties(float* logits, int64_t vocab_size) const;

  SamplingParams params_;
  Random random_;
  absl::flat_hash_map<int32_t, int32_t> prompt_counts_;  // token -> occurrences in the prompt
  absl::flat_hash_map<int32_t, int32_t> output_counts_;  // token -> occurrences generated
  // Scratch: RankKey()s of tokens (logit and id in one integer whose ascending order is the
  // ranking: sorting a vocabulary of them is several times faster than comparing logits by id).
  std::vector<uint64_t> ranked_;
  std::vector<uint64_t> sort_scratch_;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_SAMPLER_H_
