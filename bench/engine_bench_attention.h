// Prefill attention, measured two ways on a model's head shapes: core PagedAttention (per query
// row and kv head, scalar exp) and a prototype that runs each kv head's attention as two oneDNN
// matmuls (S = Q K^T, O = P V) with a vectorized causal softmax in between. Evidence for the
// profile's recommendation; not used by the engine.
#ifndef EMBER_BENCH_ENGINE_BENCH_ATTENTION_H_
#define EMBER_BENCH_ENGINE_BENCH_ATTENTION_H_

#include <cstdint>
#include <ostream>

#include "core/model/model_config.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

// One sequence of `tokens` prompt rows from position 0, one layer; prints ms per layer and per
// step for both, and the largest difference between their outputs.
void RunPrefillAttentionExperiment(const ModelConfig& config, int64_t tokens, DType compute,
                                   std::ostream& log);

}  // namespace ember::bench

#endif  // EMBER_BENCH_ENGINE_BENCH_ATTENTION_H_
