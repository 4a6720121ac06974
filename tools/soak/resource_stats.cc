#include "tools/soak/resource_stats.h"

#include <algorithm>

#include "tools/soak/linear_fit.h"

namespace ember::soak {
namespace {

// Folds one value into a range that may not have started yet.
void Fold(std::optional<Range>& range, int64_t value) {
  if (!range.has_value()) {
    range = Range{value, value, value};
    return;
  }
  range->end = value;
  range->max = std::max(range->max, value);
}

}  // namespace

ResourceStats SummarizeResources(const std::vector<MonitorSample>& samples, double load_seconds) {
  ResourceStats stats;
  std::vector<double> minutes;
  std::vector<double> rss_mb;
  for (const MonitorSample& s : samples) {
    if (!s.process.has_value()) continue;
    Fold(stats.rss_bytes, s.process->rss_bytes);
    Fold(stats.threads, s.process->threads);
    Fold(stats.open_fds, s.process->open_fds);
    if (s.phase == SoakPhase::kLoad && s.t_seconds >= load_seconds / 2 &&
        s.t_seconds <= load_seconds) {
      minutes.push_back(s.t_seconds / 60.0);
      rss_mb.push_back(static_cast<double>(s.process->rss_bytes) / 1e6);
    }
  }
  stats.slope_samples = static_cast<int>(minutes.size());
  stats.rss_slope_mb_per_minute = LeastSquaresSlope(minutes, rss_mb);
  return stats;
}

}  // namespace ember::soak
