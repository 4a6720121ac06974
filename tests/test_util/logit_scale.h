// The scales fidelity tests state their tolerances in: a logit row's largest magnitude (at least 1)
// and its standard deviation.
#ifndef EMBER_TESTS_TEST_UTIL_LOGIT_SCALE_H_
#define EMBER_TESTS_TEST_UTIL_LOGIT_SCALE_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace ember::testing {

// max(1, max |v|).
inline double Scale(const std::vector<float>& v) {
  double m = 1.0;
  for (float x : v) m = std::max(m, std::fabs(double{x}));
  return m;
}

// The population standard deviation of v.
inline double StdDev(const std::vector<float>& v) {
  double mean = 0;
  for (float x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double sq = 0;
  for (float x : v) sq += (x - mean) * (x - mean);
  return std::sqrt(sq / static_cast<double>(v.size()));
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_LOGIT_SCALE_H_
