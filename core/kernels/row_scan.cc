#include "core/kernels/row_scan.h"

#include <algorithm>
#include <limits>

#include "core/kernels/vectorize.h"

namespace ember {
namespace {

// Lanes of the per-lane partial results: wide enough for one AVX-512 vector, and each lane's
// update is independent of the others, so the loops vectorize without fast-math.
constexpr int64_t kLanes = 16;

}  // namespace

EMBER_VECTORIZED float MaxIgnoringNaN(const float* x, int64_t n, bool* has_nan) {
  float lane_max[kLanes];
  int32_t lane_nan[kLanes];
  for (int64_t j = 0; j < kLanes; ++j) {
    lane_max[j] = -std::numeric_limits<float>::infinity();
    lane_nan[j] = 0;
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      lane_max[j] = v > lane_max[j] ? v : lane_max[j];  // a NaN compares false: ignored
      lane_nan[j] |= v != v ? 1 : 0;
    }
  }
  float max = -std::numeric_limits<float>::infinity();
  int32_t nan = 0;
  for (int64_t j = 0; j < kLanes; ++j) {
    max = lane_max[j] > max ? lane_max[j] : max;
    nan |= lane_nan[j];
  }
  for (; i < n; ++i) {
    max = x[i] > max ? x[i] : max;
    nan |= x[i] != x[i] ? 1 : 0;
  }
  *has_nan = nan != 0;
  return max;
}

EMBER_VECTORIZED int64_t FirstAbove(const float* x, int64_t n, float threshold) {
  constexpr int64_t kChunk = 4 * kLanes;
  int64_t i = 0;
  for (; i + kChunk <= n; i += kChunk) {
    int32_t any[kLanes] = {};
    for (int64_t c = 0; c < kChunk; c += kLanes) {
      for (int64_t j = 0; j < kLanes; ++j) any[j] |= x[i + c + j] > threshold ? 1 : 0;
    }
    int32_t found = 0;
    for (int64_t j = 0; j < kLanes; ++j) found |= any[j];
    if (found != 0) break;
  }
  for (; i < n; ++i) {
    if (x[i] > threshold) return i;
  }
  return n;
}

}  // namespace ember
