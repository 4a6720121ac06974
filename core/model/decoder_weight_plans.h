// Per-architecture weight plans: which Hugging Face tensors a config requires, with what shapes,
// and how they are fused (q|k|v, gate|up) for the forward pass.
#ifndef EMBER_CORE_MODEL_DECODER_WEIGHT_PLANS_H_
#define EMBER_CORE_MODEL_DECODER_WEIGHT_PLANS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/checkpoint.h"
#include "core/model/decoder_weights.h"
#include "core/model/model_config.h"
#include "core/model/weight_plan.h"

namespace ember {

// The plan for `config` over `checkpoint`, filling `weights` when executed. `used` receives every
// tensor name the plan reads, so the caller can report checkpoint tensors nobody used.
absl::StatusOr<WeightPlan> PlanGpt2Weights(const ModelConfig& config, const Checkpoint& checkpoint,
                                           DType compute, DecoderWeights& weights,
                                           std::vector<std::string>& used);
absl::StatusOr<WeightPlan> PlanLlamaWeights(const ModelConfig& config, const Checkpoint& checkpoint,
                                            DType compute, DecoderWeights& weights,
                                            std::vector<std::string>& used);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_DECODER_WEIGHT_PLANS_H_
