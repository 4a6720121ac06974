// Least-squares line fitting, for the RSS trend of a soak.
#ifndef EMBER_TOOLS_SOAK_LINEAR_FIT_H_
#define EMBER_TOOLS_SOAK_LINEAR_FIT_H_

#include <optional>

#include "absl/types/span.h"

namespace ember::soak {

// The slope of the ordinary least-squares line through the points (xs[i], ys[i]). nullopt when
// there are fewer than two points, the spans differ in length, or every x is the same.
std::optional<double> LeastSquaresSlope(absl::Span<const double> xs, absl::Span<const double> ys);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_LINEAR_FIT_H_
