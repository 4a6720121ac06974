// The vectorized row scans against plain loops, on rows of every length around the vector and
// chunk widths, with NaNs, infinities and ties placed anywhere.
#include "core/kernels/row_scan.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace ember {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> RandomRow(std::mt19937& rng, int64_t n) {
  std::uniform_real_distribution<float> value(-20.0f, 20.0f);
  std::vector<float> row(static_cast<size_t>(n));
  for (float& v : row) {
    switch (rng() % 40) {
      case 0:
        v = std::nanf("");
        break;
      case 1:
        v = -kInf;
        break;
      case 2:
        v = 3.0f;
        break;  // ties
      default:
        v = value(rng);
    }
  }
  return row;
}

TEST(RowScanTest, MaxIgnoringNaNMatchesAPlainLoop) {
  std::mt19937 rng(11);
  for (int64_t n = 0; n < 300; ++n) {
    const std::vector<float> row = RandomRow(rng, n);
    float want = -kInf;
    bool want_nan = false;
    for (float v : row) {
      if (std::isnan(v))
        want_nan = true;
      else if (v > want)
        want = v;
    }
    bool has_nan = true;
    EXPECT_EQ(MaxIgnoringNaN(row.data(), n, &has_nan), want) << n;
    EXPECT_EQ(has_nan, want_nan) << n;
  }
  const std::vector<float> all_nan(37, std::nanf(""));
  bool has_nan = false;
  EXPECT_EQ(MaxIgnoringNaN(all_nan.data(), 37, &has_nan), -kInf);
  EXPECT_TRUE(has_nan);
  std::vector<float> with_inf(100, 1.0f);
  with_inf[99] = kInf;
  EXPECT_EQ(MaxIgnoringNaN(with_inf.data(), 100, &has_nan), kInf);
  EXPECT_FALSE(has_nan);
}

TEST(RowScanTest, FirstAboveMatchesAPlainLoop) {
  std::mt19937 rng(12);
  for (int64_t n = 0; n < 300; ++n) {
    const std::vector<float> row = RandomRow(rng, n);
    for (float threshold : {-kInf, -5.0f, 3.0f, 19.5f, kInf}) {
      int64_t want = n;
      for (int64_t i = 0; i < n; ++i) {
        if (row[static_cast<size_t>(i)] > threshold) {
          want = i;
          break;
        }
      }
      EXPECT_EQ(FirstAbove(row.data(), n, threshold), want) << n << " " << threshold;
    }
  }
  // A single candidate late in a long row (the common case: most of a vocabulary is skipped).
  std::vector<float> row(50000, -1.0f);
  row[49999] = 0.5f;
  EXPECT_EQ(FirstAbove(row.data(), 50000, 0.0f), 49999);
  row[31] = std::nanf("");
  EXPECT_EQ(FirstAbove(row.data(), 50000, 0.0f), 49999);
}

}  // namespace
}  // namespace ember
