#include "core/kernels/norm.h"

#include <algorithm>
#include <cmath>

#include "core/kernels/convert.h"
#include "core/kernels/vectorize.h"

namespace ember {
namespace {

// Rows are independent; parallelize only when there is enough work to pay for the fork.
constexpr int64_t kParallelElements = 1 << 15;

EMBER_VECTORIZED void LayerNormRow(const float* row, int64_t n, const float* gamma,
                                   const float* beta, float eps, DType out, void* y,
                                   int64_t offset) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) sum += row[j];
  const float mean = sum / static_cast<float>(n);
  float var = 0.0f;
#pragma omp simd reduction(+ : var)
  for (int64_t j = 0; j < n; ++j) var += (row[j] - mean) * (row[j] - mean);
  const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
  float tmp[256];
  for (int64_t j0 = 0; j0 < n; j0 += 256) {
    const int64_t len = std::min<int64_t>(256, n - j0);
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      tmp[j] = (row[j0 + j] - mean) * inv * gamma[j0 + j] + beta[j0 + j];
    }
    StoreAs(out, tmp, len, y, offset + j0);
  }
}

EMBER_VECTORIZED void RmsNormRow(const float* row, int64_t n, const float* gamma, float eps,
                                 DType out, void* y, int64_t offset) {
  float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
  for (int64_t j = 0; j < n; ++j) ss += row[j] * row[j];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  float tmp[256];
  for (int64_t j0 = 0; j0 < n; j0 += 256) {
    const int64_t len = std::min<int64_t>(256, n - j0);
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) tmp[j] = gamma[j0 + j] * (row[j0 + j] * inv);
    StoreAs(out, tmp, len, y, offset + j0);
  }
}

}  // namespace

void LayerNormRows(const float* x, int64_t m, int64_t n, const float* gamma, const float* beta,
                   float eps, DType out, void* y) {
#pragma omp parallel for if (m * n >= kParallelElements)
  for (int64_t i = 0; i < m; ++i) LayerNormRow(x + i * n, n, gamma, beta, eps, out, y, i * n);
}

void RmsNormRows(const float* x, int64_t m, int64_t n, const float* gamma, float eps, DType out,
                 void* y) {
#pragma omp parallel for if (m * n >= kParallelElements)
  for (int64_t i = 0; i < m; ++i) RmsNormRow(x + i * n, n, gamma, eps, out, y, i * n);
}

}  // namespace ember
