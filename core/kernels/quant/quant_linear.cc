#include "core/kernels/quant/quant_linear.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/kernels/vectorize.h"

namespace ember::quant {
namespace {

float Activate(onednn::LinearActivation activation, float v) {
  switch (activation) {
    case onednn::LinearActivation::kGeluTanh: {
      constexpr float kSqrt2OverPi = 0.7978845608028654f;
      return 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
    }
    case onednn::LinearActivation::kGeluErf:
      return 0.5f * v * (1.0f + std::erf(v * 0.7071067811865476f));
    case onednn::LinearActivation::kSilu:
      return v / (1.0f + std::exp(-v));
    case onednn::LinearActivation::kRelu:
      return v > 0.0f ? v : 0.0f;
    case onednn::LinearActivation::kNone:
      break;
  }
  return v;
}

// dst = row + bias (a missing bias adds +0, as the activation branch does), plus dst's previous
// value when accumulating: the epilogue without an activation, in a loop the compiler vectorizes.
// Called only when there is a bias or an accumulation (otherwise the matmul wrote y itself).
EMBER_VECTORIZED void AddBiasRow(const float* row, const float* bias, int64_t n, bool accumulate,
                                 float* dst) {
  if (bias == nullptr) {  // so accumulating
    for (int64_t c = 0; c < n; ++c) dst[c] = dst[c] + (row[c] + 0.0f);
  } else if (accumulate) {
    for (int64_t c = 0; c < n; ++c) dst[c] = dst[c] + (row[c] + bias[c]);
  } else {
    for (int64_t c = 0; c < n; ++c) dst[c] = row[c] + bias[c];
  }
}

size_t BiasOffset(const PackedGeometry& g) { return static_cast<size_t>(g.total_bytes); }

}  // namespace

absl::StatusOr<size_t> QuantLinear::StorageBytes(const QuantLinearShape& shape) {
  if (absl::Status s = ValidateScheme(shape.scheme); !s.ok()) return s;
  if (shape.in <= 0 || shape.out <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("QuantLinear: sizes must be positive, got in=", shape.in, " out=", shape.out));
  }
  const PackedGeometry g = PackedGeometry::Of(shape.out, shape.in, shape.scheme);
  size_t bytes = static_cast<size_t>(g.total_bytes);
  if (shape.has_bias) bytes += static_cast<size_t>(RoundUpTo(shape.out * 4, 64));
  return bytes;
}

absl::StatusOr<std::unique_ptr<QuantLinear>> QuantLinear::Create(const QuantLinearShape& shape,
                                                                 const WeightMatrixSource& weights,
                                                                 const float* bias, void* storage,
                                                                 QuantKernel kernel) {
  absl::StatusOr<size_t> bytes = StorageBytes(shape);
  if (!bytes.ok()) return bytes.status();
  if (weights.n != shape.out || weights.k != shape.in) {
    return absl::InvalidArgumentError(absl::StrCat("QuantLinear: weights are ", weights.n, " x ",
                                                   weights.k, ", the shape wants ", shape.out,
                                                   " x ", shape.in));
  }
  if (shape.input != DType::kF32 && shape.input != DType::kBF16) {
    return absl::InvalidArgumentError("QuantLinear: activations must be f32 or bf16");
  }
  if (shape.has_bias && bias == nullptr) {
    return absl::InvalidArgumentError("QuantLinear: shape has a bias but none was given");
  }
  int64_t non_finite = 0;
  absl::StatusOr<PackedMatrix> packed =
      QuantizeWeights(weights, shape.scheme, storage, &non_finite);
  if (!packed.ok()) return packed.status();
  float* bias_storage = nullptr;
  if (shape.has_bias) {
    bias_storage =
        reinterpret_cast<float*>(static_cast<char*>(storage) + BiasOffset(packed->geometry));
    std::memcpy(bias_storage, bias, static_cast<size_t>(shape.out) * sizeof(float));
  }
  return std::unique_ptr<QuantLinear>(
      new QuantLinear(shape, *packed, bias_storage, kernel, non_finite));
}

absl::Status QuantLinear::Prepare(int64_t m, bool accumulate) {
  if (m <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("QuantLinear: m must be positive, got ", m));
  }
  ReserveActivations(m, packed_.geometry, &activations_);
  if (accumulate && accumulate_.size() < static_cast<size_t>(m * shape_.out)) {
    accumulate_.resize(static_cast<size_t>(m * shape_.out));
  }
  return absl::OkStatus();
}

absl::Status QuantLinear::Forward(const void* x, int64_t m, float* y, bool accumulate) {
  if (absl::Status s = Prepare(m, accumulate); !s.ok()) return s;
  const int64_t n = shape_.out;
  QuantizeActivations(x, shape_.input, m, shape_.in, shape_.scheme, packed_.geometry,
                      &activations_);
  float* out = accumulate ? accumulate_.data() : y;
  QuantMatmul(kernel_, activations_, packed_, out, n);
  if (shape_.activation != onednn::LinearActivation::kNone) {
    for (int64_t r = 0; r < m; ++r) {
      float* row = out + r * n;
      float* dst = y + r * n;
      for (int64_t c = 0; c < n; ++c) {
        const float v = Activate(shape_.activation, row[c] + (bias_ != nullptr ? bias_[c] : 0.0f));
        dst[c] = accumulate ? dst[c] + v : v;
      }
    }
  } else if (bias_ != nullptr || accumulate) {
    for (int64_t r = 0; r < m; ++r) AddBiasRow(out + r * n, bias_, n, accumulate, y + r * n);
  }
  return absl::OkStatus();
}

}  // namespace ember::quant
