// Sums of exponentials over a whole vocabulary row: the normalizer of log-softmax (beam search
// scores every beam's row each step) and of log-probabilities. As a scalar double std::exp loop it
// was 6.8 % of ember_marian_bench's perf samples; vectorized, beam-4 translation of 32 sentences at
// once went from 477 to 711 tok/s.
#ifndef EMBER_CORE_KERNELS_EXP_SUM_H_
#define EMBER_CORE_KERNELS_EXP_SUM_H_

#include <cstdint>

namespace ember {

// sum_i e^(x[i] - shift), each term computed in float with FastExp, summed in float over chunks of
// 128 and the chunks in double, so the error does not grow with the row: about 1e-6 relative at
// worst (FastExp's 3e-7, rounding x - shift to float, the short float sums). Terms of -inf, or
// below shift - 87, add 0. `shift` is normally max(x), making every term <= 1.
double SumExpShifted(const float* x, int64_t n, float shift);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_EXP_SUM_H_
