// Which MarianMTModel tensors a Marian config requires, with what shapes, and how they are fused
// (q|k|v of self-attention, k|v of cross-attention) for the forward pass.
#ifndef EMBER_CORE_MODEL_MARIAN_WEIGHT_PLAN_H_
#define EMBER_CORE_MODEL_MARIAN_WEIGHT_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/checkpoint.h"
#include "core/model/marian_weights.h"
#include "core/model/model_config.h"
#include "core/model/weight_plan.h"

namespace ember {

// The plan for `config` (architecture kMarian) over `checkpoint`, filling `weights` when executed.
// `used` receives every tensor name the plan reads. Errors name the file and the tensor.
absl::StatusOr<WeightPlan> PlanMarianWeights(const ModelConfig& config,
                                             const Checkpoint& checkpoint, DType compute,
                                             MarianWeights& weights,
                                             std::vector<std::string>& used);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_MARIAN_WEIGHT_PLAN_H_
