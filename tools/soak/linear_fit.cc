#include "tools/soak/linear_fit.h"

namespace ember::soak {

std::optional<double> LeastSquaresSlope(absl::Span<const double> xs, absl::Span<const double> ys) {
  if (xs.size() != ys.size() || xs.size() < 2) return std::nullopt;
  const double n = static_cast<double>(xs.size());
  double mean_x = 0;
  double mean_y = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    mean_x += xs[i];
    mean_y += ys[i];
  }
  mean_x /= n;
  mean_y /= n;
  // Centred sums: no cancellation when x is a large timestamp and the spread is small.
  double sxy = 0;
  double sxx = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sxy += (xs[i] - mean_x) * (ys[i] - mean_y);
    sxx += (xs[i] - mean_x) * (xs[i] - mean_x);
  }
  if (sxx == 0) return std::nullopt;
  return sxy / sxx;
}

}  // namespace ember::soak
