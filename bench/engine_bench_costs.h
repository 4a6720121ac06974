// What one forward step of a decoder model must read and compute, from its config alone: the
// denominators of the engine benchmark's bounds. Weight bytes are the packed sizes of the format
// served (oneDNN's Linear::StorageBytes, or QuantLinear::StorageBytes for int8 / int4: codes,
// scales and bias), i.e. exactly what a step streams from memory.
#ifndef EMBER_BENCH_ENGINE_BENCH_COSTS_H_
#define EMBER_BENCH_ENGINE_BENCH_COSTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/machine_limits.h"
#include "core/kernels/quant/quant_format.h"
#include "core/model/model_config.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

struct ModelCosts {
  // The matmuls of one step: per-layer projections (count = num_layers) and the LM head (count 1).
  std::vector<LinearUse> uses;
  // Packed bytes of one matrix of uses[i] (times uses[i].count per step).
  std::vector<double> use_bytes;
  double layer_params = 0;    // sum over layers of in x out (all decoder-block matmuls)
  double lm_head_params = 0;  // hidden x vocab
  // Packed weight (and bias) bytes of every matmul, LM head included: read once per step.
  double matmul_weight_bytes = 0;
  // Norm weights read per step (f32).
  double norm_bytes = 0;
  // Bytes one token's row of the embedding table (and learned position table) adds per step.
  double embedding_row_bytes = 0;
  // K and V of one cached position, all layers, in the cache dtype.
  double kv_bytes_per_position = 0;
  // Attention FLOPs for one query row per visible key, all layers (q.k and p.v: 4 x heads x dim).
  double attention_flops_per_key = 0;

  // Bytes a decode step of `batch` sequences reads when each sees `context` cached positions.
  double DecodeBytes(int64_t batch, double context) const;
  // Matmul FLOPs per decoded token (every row goes through the LM head).
  double DecodeFlopsPerToken() const { return 2.0 * (layer_params + lm_head_params); }
  // Matmul FLOPs per prompt token of a `tokens`-long prefill (the LM head runs for the last row).
  double PrefillFlopsPerToken(int64_t tokens) const;
  // Causal attention FLOPs per prompt token of the same prefill (mean of 1..tokens keys).
  double PrefillAttentionFlopsPerToken(int64_t tokens) const;
};

// INVALID_ARGUMENT from StorageBytes for impossible shapes. `quantize`: the weight scheme of the
// projections (and of the LM head when `quantize_lm_head`), as ModelOptions::quantize.
absl::StatusOr<ModelCosts> ComputeModelCosts(
    const ModelConfig& config, DType compute,
    const std::optional<quant::QuantScheme>& quantize = std::nullopt, bool quantize_lm_head = true);

}  // namespace ember::bench

#endif  // EMBER_BENCH_ENGINE_BENCH_COSTS_H_
