// A fully connected layer (y = act(x W^T + b), optionally accumulated into y) over quantized
// weights: the counterpart of onednn::Linear for int8 / int4 weight formats. The weights are
// quantized and packed once, at load, into caller-provided memory (the model's weight arena);
// Forward quantizes the activations (f32 or bf16, the model's compute type), runs the fastest
// QuantMatmul the CPU has, and applies bias, activation and accumulation in f32.
//
// Not thread-safe: one caller at a time (the engine loop); the matmul runs on its OpenMP team.
#ifndef EMBER_CORE_KERNELS_QUANT_QUANT_LINEAR_H_
#define EMBER_CORE_KERNELS_QUANT_QUANT_LINEAR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kernels/linear_layer.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/quant/activation_quant.h"
#include "core/kernels/quant/quant_format.h"
#include "core/kernels/quant/quant_matmul.h"
#include "core/kernels/quant/quantize_weights.h"

namespace ember::quant {

struct QuantLinearShape {
  int64_t in = 0;   // K
  int64_t out = 0;  // N
  QuantScheme scheme;
  onednn::LinearActivation activation = onednn::LinearActivation::kNone;
  bool has_bias = false;
  DType input = DType::kF32;  // type of x: F32 or BF16
};

class QuantLinear final : public LinearLayer {
 public:
  // Bytes of packed weights (plus bias) that Create needs, a multiple of 64.
  static absl::StatusOr<size_t> StorageBytes(const QuantLinearShape& shape);

  // Quantizes `weights` ([out, in], or [in, out] when weights.k_major; its n and k must match
  // the shape) and `bias` (shape.out f32 values when shape.has_bias) into `storage`
  // (StorageBytes, 64-byte aligned, outliving the layer). `kernel`: the implementation Forward
  // uses (tests pin the reference).
  static absl::StatusOr<std::unique_ptr<QuantLinear>> Create(
      const QuantLinearShape& shape, const WeightMatrixSource& weights, const float* bias,
      void* storage, QuantKernel kernel = BestQuantKernel());

  // y[m, out] = act(x[m, in] W^T + b) (+ y's previous contents when `accumulate`, after the
  // activation). x is of shape().input, y f32, with row strides in and out.
  absl::Status Forward(const void* x, int64_t m, float* y, bool accumulate = false) override;
  // Sizes the scratch for `m` rows; there is nothing to compile.
  absl::Status Prepare(int64_t m, bool accumulate) override;
  int64_t primitives_created() const override { return 0; }
  int64_t in() const override { return shape_.in; }
  int64_t out() const override { return shape_.out; }

  const QuantLinearShape& shape() const { return shape_; }
  const PackedMatrix& packed() const { return packed_; }
  QuantKernel kernel() const { return kernel_; }
  // Non-finite weights that were quantized as 0.
  int64_t non_finite_weights() const { return non_finite_; }

 private:
  QuantLinear(const QuantLinearShape& shape, const PackedMatrix& packed, const float* bias,
              QuantKernel kernel, int64_t non_finite)
      : shape_(shape), packed_(packed), bias_(bias), kernel_(kernel), non_finite_(non_finite) {}

  QuantLinearShape shape_;
  PackedMatrix packed_;
  const float* bias_;  // in the storage; null without bias
  QuantKernel kernel_;
  int64_t non_finite_;
  QuantizedActivations activations_;  // scratch, reused across calls
  std::vector<float> accumulate_;     // [m, out] scratch when accumulating
};

}  // namespace ember::quant

#endif  // EMBER_CORE_KERNELS_QUANT_QUANT_LINEAR_H_
