#include "core/kernels/quant/activation_quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/kernels/vectorize.h"
#include "core/tensor/half.h"

namespace ember::quant {
namespace {

// Below this many values a row-parallel pass costs more in fork/join than it saves.
constexpr int64_t kParallelValues = int64_t{1} << 16;

// Quantizes one group; returns the sum of its codes. The product is rounded to f32 and then to the
// nearest integer, ties to even (std::nearbyint in the default rounding mode), as torch.round
// does. Not the magic-number add that quantize_weights.cc uses after a division: here it would
// follow a multiply, and GCC contracts a multiply and an add into one fma (in the clones for CPUs
// that have it), which rounds the exact product instead and so, on rare half-way products, gave a
// code one off from torch's, and different from one CPU to another.
EMBER_VECTORIZED int32_t QuantizeGroup(const float* x, int64_t count, float inv_scale, int8_t* q) {
  int32_t sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    const float xi =
        std::fabs(x[i]) <= std::numeric_limits<float>::max() ? x[i] : 0.0f;  // NaN and inf as 0
    const float v = std::clamp(std::nearbyint(xi * inv_scale), -127.0f, 127.0f);
    const int32_t c = static_cast<int32_t>(v);
    q[i] = static_cast<int8_t>(c);
    sum += c;
  }
  return sum;
}

EMBER_VECTORIZED float FiniteAbsMax(const float* x, int64_t count) {
  float m = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    const float a = std::fabs(x[i]);
    m = a <= std::numeric_limits<float>::max() ? std::max(m, a) : m;  // NaN and inf compare false
  }
  return m;
}

}  // namespace

void QuantizeActivationRowReference(const void* x, DType dtype, int64_t row, int64_t k,
                                    const QuantScheme& scheme, QuantizedActivations* out) {
  const int64_t group = scheme.group_size;
  float values[128];  // one group as f32, zero past k (group_size <= 128)
  int8_t* qr = out->q.data() + row * out->padded_k;
  for (int64_t gi = 0; gi < out->groups; ++gi) {
    const int64_t begin = gi * group;
    const int64_t count = std::clamp<int64_t>(k - begin, 0, group);
    std::fill(values, values + group, 0.0f);
    if (dtype == DType::kBF16) {
      const uint16_t* xr = static_cast<const uint16_t*>(x) + row * k + begin;
      for (int64_t i = 0; i < count; ++i) values[i] = Bf16ToFloat(xr[i]);
    } else {
      const float* xr = static_cast<const float*>(x) + row * k + begin;
      std::copy(xr, xr + count, values);
    }
    const float max_abs = FiniteAbsMax(values, group);
    float& scale = out->scale[static_cast<size_t>(row * out->groups + gi)];
    int32_t& sum = out->sum[static_cast<size_t>(row * out->groups + gi)];
    if (max_abs > 0.0f) {
      scale = max_abs / 127.0f;
      sum = QuantizeGroup(values, group, 127.0f / max_abs, qr + begin);
    } else {
      scale = 0.0f;
      sum = 0;
      std::fill(qr + begin, qr + begin + group, int8_t{0});
    }
  }
}

void ReserveActivations(int64_t rows, const PackedGeometry& g, QuantizedActivations* out) {
  const size_t q_size = static_cast<size_t>(rows * g.padded_k);
  if (out->q.size() < q_size) out->q.resize(q_size);
  if (out->scale.size() < static_cast<size_t>(rows * g.groups)) {
    out->scale.resize(static_cast<size_t>(rows * g.groups));
    out->sum.resize(static_cast<size_t>(rows * g.groups));
  }
}

void QuantizeActivations(const void* x, DType dtype, int64_t rows, int64_t k,
                         const QuantScheme& scheme, const PackedGeometry& g,
                         QuantizedActivations* out) {
  ReserveActivations(rows, g, out);
  out->rows = rows;
  out->padded_k = g.padded_k;
  out->groups = g.groups;
  const bool avx512 = HasAvx512ActivationQuant();
#pragma omp parallel for schedule(static) if (rows > 1 && rows * k >= kParallelValues)
  for (int64_t r = 0; r < rows; ++r) {
    if (avx512) {
      QuantizeActivationRowAvx512(x, dtype, r, k, scheme, out);
    } else {
      QuantizeActivationRowReference(x, dtype, r, k, scheme, out);
    }
  }
}

bool HasAvx512ActivationQuant() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return has;
#else
  return false;
#endif
}

}  // namespace ember::quant
