// Summaries of the server's resources over a soak: start, end, peak and the RSS trend.
#ifndef EMBER_TOOLS_SOAK_RESOURCE_STATS_H_
#define EMBER_TOOLS_SOAK_RESOURCE_STATS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "tools/soak/monitor_sample.h"

namespace ember::soak {

struct Range {
  int64_t start = 0;  // first sample (the baseline, before the load)
  int64_t end = 0;    // last sample (after the drain)
  int64_t max = 0;
};

struct ResourceStats {
  // Absent when no sample had /proc figures.
  std::optional<Range> rss_bytes;
  std::optional<Range> threads;
  std::optional<Range> open_fds;
  // Least-squares RSS slope in MB (10^6 bytes) per minute over the load samples of the second
  // half of the load (the first half is warm-up: allocator pools, thread caches and gRPC buffers
  // grow to their working size). Absent with fewer than two such samples.
  std::optional<double> rss_slope_mb_per_minute;
  int slope_samples = 0;
};

// `load_seconds`: the load's length; samples are as ServerMonitor records them, in time order.
ResourceStats SummarizeResources(const std::vector<MonitorSample>& samples, double load_seconds);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_RESOURCE_STATS_H_
