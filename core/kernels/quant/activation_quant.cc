#include "core/kernels/quant/activation_quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/kernels/vectorize.h"

namespace ember::quant {
namespace {

// Quantizes one group; returns the sum of its codes. The float-to-int rounding is half to even
// (the magic-number add, as in quantize_weights.cc), which torch.round also does.
EMBER_VECTORIZED int32_t QuantizeGroup(const float* x, int64_t count, float inv_scale, int8_t* q) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  int32_t sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    const float xi =
        std::fabs(x[i]) <= std::numeric_limits<float>::max() ? x[i] : 0.0f;  // NaN and inf as 0
    const float v = std::clamp((xi * inv_scale + kMagic) - kMagic, -127.0f, 127.0f);
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

void QuantizeActivations(const float* x, int64_t rows, int64_t k, const QuantScheme& scheme,
                         const PackedGeometry& g, QuantizedActivations* out) {
  const int64_t group = scheme.group_size;
  out->rows = rows;
  out->padded_k = g.padded_k;
  out->groups = g.groups;
  const size_t q_size = static_cast<size_t>(rows * g.padded_k);
  if (out->q.size() < q_size) out->q.resize(q_size);
  if (out->scale.size() < static_cast<size_t>(rows * g.groups)) {
    out->scale.resize(static_cast<size_t>(rows * g.groups));
    out->sum.resize(static_cast<size_t>(rows * g.groups));
  }
  std::vector<float> padded;  // only for a row's last, partial group
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * k;
    int8_t* qr = out->q.data() + r * g.padded_k;
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const int64_t begin = gi * group;
      const float* v = xr + begin;
      if (begin + group > k) {  // the tail: zero-pad a copy
        padded.assign(static_cast<size_t>(group), 0.0f);
        std::copy(xr + begin, xr + k, padded.begin());
        v = padded.data();
      }
      const float max_abs = FiniteAbsMax(v, group);
      float& scale = out->scale[static_cast<size_t>(r * g.groups + gi)];
      int32_t& sum = out->sum[static_cast<size_t>(r * g.groups + gi)];
      if (max_abs > 0.0f) {
        scale = max_abs / 127.0f;
        sum = QuantizeGroup(v, group, 127.0f / max_abs, qr + begin);
      } else {
        scale = 0.0f;
        sum = 0;
        std::fill(qr + begin, qr + begin + group, int8_t{0});
      }
    }
  }
}

}  // namespace ember::quant
