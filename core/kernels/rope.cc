#include "core/kernels/rope.h"

#include <cmath>

#include "core/kernels/vectorize.h"

namespace ember {

RopeTable::RopeTable(std::vector<float> inv_freq, int64_t max_positions)
    : inv_freq_(std::move(inv_freq)), max_positions_(max_positions) {
  const int64_t half = half_dim();
  cos_.resize(static_cast<size_t>(max_positions * half));
  sin_.resize(cos_.size());
  for (int64_t p = 0; p < max_positions; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq_[i];
      cos_[p * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin_[p * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
}

namespace {

EMBER_VECTORIZED void RotateRow(float* row, int64_t num_heads, int64_t half, const float* c,
                                const float* s) {
  for (int64_t h = 0; h < num_heads; ++h) {
    float* a = row + h * 2 * half;
    float* b = a + half;
#pragma omp simd
    for (int64_t i = 0; i < half; ++i) {
      const float x0 = a[i];
      const float x1 = b[i];
      a[i] = x0 * c[i] - x1 * s[i];
      b[i] = x1 * c[i] + x0 * s[i];
    }
  }
}

}  // namespace

void ApplyRope(float* x, int64_t num_tokens, int64_t row_stride, int64_t num_heads,
               const int32_t* positions, const RopeTable& table) {
  const int64_t half = table.half_dim();
#pragma omp parallel for if (num_tokens * num_heads * half >= (1 << 14))
  for (int64_t t = 0; t < num_tokens; ++t) {
    RotateRow(x + t * row_stride, num_heads, half, table.cos(positions[t]),
              table.sin(positions[t]));
  }
}

}  // namespace ember
