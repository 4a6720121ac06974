// y[m, n] = sum over groups g of (scale_w[n, g] * scale_x[m, g]) * (sum over k in g of
// q_w[n, k] * q_x[m, k]), the matmul of quantized activations (activation_quant.h) with packed
// quantized weights (quant_format.h). The integer dot of a group is exact (int32); its float
// accumulation is, per output, in group order as acc = fma(float(dot), scale_w * scale_x, acc),
// in every implementation, so the AVX-512 kernel and the portable reference agree bit for bit.
//
// Implementations, chosen at run time from the CPU (never the build host):
//   kAvx512Vnni  vpdpbusd over 16 output rows at a time, 1-4 activation rows per pass, OpenMP over
//                row blocks (quant_matmul_avx512.cc);
//   kReference   portable C++ (the test oracle, and the path on CPUs without AVX512-VNNI).
#ifndef EMBER_CORE_KERNELS_QUANT_QUANT_MATMUL_H_
#define EMBER_CORE_KERNELS_QUANT_QUANT_MATMUL_H_

#include <cstdint>

#include "core/kernels/quant/activation_quant.h"
#include "core/kernels/quant/quant_format.h"

namespace ember::quant {

enum class QuantKernel { kReference, kAvx512Vnni };

// The fastest implementation this CPU runs.
QuantKernel BestQuantKernel();
const char* QuantKernelName(QuantKernel kernel);

// y has rows x.rows, row stride ldy >= w.geometry.n; only columns [0, n) are written.
void QuantMatmul(QuantKernel kernel, const QuantizedActivations& x, const PackedMatrix& w, float* y,
                 int64_t ldy);

// The two implementations (QuantMatmul dispatches); Avx512 only where BestQuantKernel says so.
void QuantMatmulReference(const QuantizedActivations& x, const PackedMatrix& w, float* y,
                          int64_t ldy);
void QuantMatmulAvx512Vnni(const QuantizedActivations& x, const PackedMatrix& w, float* y,
                           int64_t ldy);

}  // namespace ember::quant

#endif  // EMBER_CORE_KERNELS_QUANT_QUANT_MATMUL_H_
