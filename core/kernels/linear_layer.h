// What a model's projection is to the forward pass, whichever weight format backs it: oneDNN over
// f32/bf16 weights (onednn::Linear) or ember's kernels over int8/int4 weights (quant::QuantLinear).
// The models hold LinearLayers, so the weight format is chosen at load and nothing else changes.
#ifndef EMBER_CORE_KERNELS_LINEAR_LAYER_H_
#define EMBER_CORE_KERNELS_LINEAR_LAYER_H_

#include <cstdint>

#include "absl/status/status.h"

namespace ember {

class LinearLayer {
 public:
  virtual ~LinearLayer() = default;

  // y[m, out] = act(x[m, in] W^T + b) (+ y's previous contents when `accumulate`, applied after
  // the activation). x is in the layer's input type (the model's compute type), y is f32. Not
  // thread-safe: one caller at a time (the engine loop).
  virtual absl::Status Forward(const void* x, int64_t m, float* y, bool accumulate = false) = 0;

  // Readies everything a Forward of exactly `m` rows needs (a JIT-compiled primitive, scratch), so
  // serving never does it on the hot path. Idempotent.
  virtual absl::Status Prepare(int64_t m, bool accumulate) = 0;
  // Primitives (JIT compiles) created so far: tests assert warm-up leaves none for the hot path.
  virtual int64_t primitives_created() const = 0;

  virtual int64_t in() const = 0;   // K
  virtual int64_t out() const = 0;  // N
};

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_LINEAR_LAYER_H_
