// Whole-row scans of a logits row (tens of thousands of floats) that sampling and beam search run
// every step on every row: vectorized, since as scalar loops with a branch per element they were
// a large share of a beam-search step.
#ifndef EMBER_CORE_KERNELS_ROW_SCAN_H_
#define EMBER_CORE_KERNELS_ROW_SCAN_H_

#include <cstdint>

namespace ember {

// The largest non-NaN x[i] (-inf when there is none, or n <= 0); *has_nan says whether any x[i]
// is NaN.
float MaxIgnoringNaN(const float* x, int64_t n, bool* has_nan);

// The first i in [0, n) with x[i] > threshold (NaN never is), or n when there is none.
int64_t FirstAbove(const float* x, int64_t n, float threshold);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_ROW_SCAN_H_
