// What one decoder step of a MarianMT model must read and compute, from its config alone: the
// denominators of ember_marian_bench's bounds. Weight bytes are oneDNN's packed sizes
// (Linear::StorageBytes), i.e. exactly what a step streams from memory.
#ifndef EMBER_BENCH_MARIAN_BENCH_COSTS_H_
#define EMBER_BENCH_MARIAN_BENCH_COSTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/model_config.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

// One weight matrix a decoder step multiplies by, and how many times (layers) per step.
struct MarianStepMatmul {
  std::string name;  // "self_qkv", "self_out", "cross_q", "cross_out", "fc1", "fc2", "lm_head"
  int64_t in = 0;
  int64_t out = 0;
  int64_t count = 1;
  double bytes = 0;  // packed bytes of one matrix (plus its f32 bias)
};

struct MarianStepCosts {
  // Per decoder layer: self q|k|v, self out, cross q, cross out, fc1, fc2; then the LM head.
  // Not here: cross k|v, which runs once per request over the encoder output.
  std::vector<MarianStepMatmul> matmuls;
  double layer_params = 0;    // decoder-layer matmul parameters, all layers
  double lm_head_params = 0;  // d_model x vocab
  double weight_bytes = 0;    // everything one step reads from `matmuls`
  // Matmul FLOPs per decoder row (one token of one sequence or beam).
  double FlopsPerRow() const { return 2.0 * (layer_params + lm_head_params); }
};

// INVALID_ARGUMENT for a config without an encoder-decoder part or shapes Linear cannot pack.
absl::StatusOr<MarianStepCosts> ComputeMarianStepCosts(const ModelConfig& config, DType compute);

}  // namespace ember::bench

#endif  // EMBER_BENCH_MARIAN_BENCH_COSTS_H_
