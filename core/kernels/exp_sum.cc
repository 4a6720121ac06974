#include "core/kernels/exp_sum.h"

#include <algorithm>

#include "core/kernels/fast_math.h"
#include "core/kernels/vectorize.h"

namespace ember {

EMBER_VECTORIZED double SumExpShifted(const float* x, int64_t n, float shift) {
  // GCC does not vectorize a double reduction of float terms, so short float partial sums (a few
  // terms per vector lane) are vectorized and carried into the double total.
  constexpr int64_t kChunk = 128;
  double total = 0.0;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t end = std::min(n, start + kChunk);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = start; i < end; ++i) sum += FastExp(x[i] - shift);
    total += sum;
  }
  return total;
}

}  // namespace ember
