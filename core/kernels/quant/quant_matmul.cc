#include "core/kernels/quant/quant_matmul.h"

#include <cmath>

namespace ember::quant {

QuantKernel BestQuantKernel() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool vnni =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  if (vnni) return QuantKernel::kAvx512Vnni;
#endif
  return QuantKernel::kReference;
}

const char* QuantKernelName(QuantKernel kernel) {
  return kernel == QuantKernel::kAvx512Vnni ? "avx512_vnni" : "reference";
}

void QuantMatmul(QuantKernel kernel, const QuantizedActivations& x, const PackedMatrix& w, float* y,
                 int64_t ldy) {
  if (kernel == QuantKernel::kAvx512Vnni) {
    QuantMatmulAvx512Vnni(x, w, y, ldy);
  } else {
    QuantMatmulReference(x, w, y, ldy);
  }
}

void QuantMatmulReference(const QuantizedActivations& x, const PackedMatrix& w, float* y,
                          int64_t ldy) {
  const PackedGeometry& g = w.geometry;
  const int64_t group = w.scheme.group_size;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t m = 0; m < x.rows; ++m) {
      const int8_t* q = x.row_q(m);
      float acc = 0.0f;
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        int32_t dot = 0;
        for (int64_t c = gi * group; c < (gi + 1) * group; ++c) dot += w.Code(n, c) * q[c];
        const float s = w.Scale(n, gi) * x.row_scale(m)[gi];
        acc = std::fma(static_cast<float>(dot), s, acc);
      }
      y[m * ldy + n] = acc;
    }
  }
}

}  // namespace ember::quant
