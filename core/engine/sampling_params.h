// Per-request decoding parameters. Plain data: the ranges below are checked by
// ValidateSamplingParams (request_validation.h), the math is in sampler.cc.
#ifndef EMBER_CORE_ENGINE_SAMPLING_PARAMS_H_
#define EMBER_CORE_ENGINE_SAMPLING_PARAMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ember {

struct SamplingParams {
  // Softmax temperature. 0 means greedy (argmax; the other sampling fields are then ignored).
  // Range [0, 100].
  float temperature = 1.0f;
  // Keep only the k most likely tokens. 0 means no limit.
  int32_t top_k = 0;
  // Keep the smallest set of most likely tokens whose probability reaches top_p. Range (0, 1];
  // 1 means no limit.
  float top_p = 1.0f;
  // Drop tokens whose probability is below min_p times the most likely token's. Range [0, 1];
  // 0 means off.
  float min_p = 0.0f;
  // CTRL-style penalty on every token already in the prompt or output (as Hugging Face applies
  // it: positive logits divided by it, negative ones multiplied). Range (0, 10]; 1 means off.
  float repetition_penalty = 1.0f;
  // OpenAI-style penalties over the tokens generated so far: logit -= presence_penalty if the
  // token occurred, and -= frequency_penalty * its count. Range [-2, 2]; 0 means off.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // Seed of this request's random stream. Same seed and inputs give the same output, whether the
  // request runs alone or batched. nullopt: a seed drawn from the engine's generator.
  std::optional<uint64_t> seed;
  // Return the log-probability of each chosen token.
  bool logprobs = false;
  // Also return this many most likely alternatives per position (0 = none). Range [0, 20].
  int32_t top_logprobs = 0;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_SAMPLING_PARAMS_H_
