#include "core/kernels/activation.h"

#include <algorithm>
#include <cmath>

#include "core/kernels/convert.h"
#include "core/kernels/fast_math.h"
#include "core/kernels/vectorize.h"

namespace ember {
namespace {

EMBER_VECTORIZED void SiluMulRow(const float* gate, const float* up, int64_t n, DType out_type,
                                 void* out, int64_t offset) {
  float tmp[256];
  for (int64_t j0 = 0; j0 < n; j0 += 256) {
    const int64_t len = std::min<int64_t>(256, n - j0);
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      const float g = gate[j0 + j];
      tmp[j] = g / (1.0f + FastExp(-g)) * up[j0 + j];
    }
    StoreAs(out_type, tmp, len, out, offset + j0);
  }
}

}  // namespace

void SiluMul(const float* gate_up, int64_t m, int64_t n, DType out_type, void* out) {
#pragma omp parallel for if (m * n >= (1 << 14))
  for (int64_t i = 0; i < m; ++i) {
    const float* row = gate_up + i * 2 * n;
    SiluMulRow(row, row + n, n, out_type, out, i * n);
  }
}

}  // namespace ember
