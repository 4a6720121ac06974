#include "bench/engine_bench_experiments.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/kernels/activation.h"
#include "core/kernels/convert.h"
#include "core/kernels/vectorize.h"

namespace ember::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// SiluMul as it was before FastExp (core commit ca3b6d9): std::exp, a scalar libm call per
// element. The baseline that shows what the vectorized exp bought.
EMBER_VECTORIZED void SiluMulRowScalarExp(const float* gate, const float* up, int64_t n,
                                          DType out_type, void* out, int64_t offset) {
  float tmp[256];
  for (int64_t j0 = 0; j0 < n; j0 += 256) {
    const int64_t len = std::min<int64_t>(256, n - j0);
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      const float g = gate[j0 + j];
      tmp[j] = g / (1.0f + std::exp(-g)) * up[j0 + j];
    }
    StoreAs(out_type, tmp, len, out, offset + j0);
  }
}

void SiluMulScalarExp(const float* gate_up, int64_t m, int64_t n, DType out_type, void* out) {
#pragma omp parallel for if (m * n >= (1 << 14))
  for (int64_t i = 0; i < m; ++i) {
    const float* row = gate_up + i * 2 * n;
    SiluMulRowScalarExp(row, row + n, n, out_type, out, i * n);
  }
}

template <typename F>
double BestSeconds(F&& f, int runs) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    const double start = Now();
    f();
    best = std::min(best, Now() - start);
  }
  return best;
}

}  // namespace

void RunSiluMulExperiment(int64_t rows, int64_t n, int64_t layers, DType out_type,
                          std::ostream& log) {
  std::vector<float> gate_up(static_cast<size_t>(rows * 2 * n));
  for (size_t i = 0; i < gate_up.size(); ++i) {
    gate_up[i] = static_cast<float>(static_cast<int64_t>(i % 97) - 48) * 0.1f;
  }
  const size_t out_bytes = static_cast<size_t>(rows * n) * sizeof(float);
  std::vector<float> out_core(out_bytes / sizeof(float)), out_scalar(out_core.size());
  const int runs = rows >= 64 ? 10 : 200;
  const double core =
      BestSeconds([&] { SiluMul(gate_up.data(), rows, n, out_type, out_core.data()); }, runs);
  const double scalar = BestSeconds(
      [&] { SiluMulScalarExp(gate_up.data(), rows, n, out_type, out_scalar.data()); }, runs);
  const double l = static_cast<double>(layers);
  log << absl::StrFormat(
      "SiluMul %d x %d -> %s: core (FastExp) %.3f ms/call = %.2f ms/step; with scalar std::exp "
      "(before ca3b6d9) %.3f ms/call = %.2f ms/step; %.1fx\n",
      rows, n, DTypeName(out_type), core * 1e3, core * l * 1e3, scalar * 1e3, scalar * l * 1e3,
      scalar / core);
}

}  // namespace ember::bench
