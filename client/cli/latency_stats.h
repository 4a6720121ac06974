// Percentiles and summaries of latency samples, for ember_cli bench.
#ifndef EMBER_CLIENT_CLI_LATENCY_STATS_H_
#define EMBER_CLIENT_CLI_LATENCY_STATS_H_

#include <cstdint>
#include <vector>

namespace ember::client {

// The p-th percentile (p in [0, 100]) of `sorted` (ascending, non-empty), linearly interpolated
// between the two nearest ranks (rank = p / 100 * (n - 1)), as numpy.percentile does by default.
double Percentile(const std::vector<double>& sorted, double p);

// Summary of samples in seconds. All zero when count is 0.
struct LatencySummary {
  int64_t count = 0;
  double mean = 0;
  double min = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

// Sorts a copy of `samples` and summarizes it.
LatencySummary Summarize(std::vector<double> samples);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_LATENCY_STATS_H_
