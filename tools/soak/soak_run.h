// The facts of a finished soak run, gathered by main.cc for the checks and the report.
#ifndef EMBER_TOOLS_SOAK_SOAK_RUN_H_
#define EMBER_TOOLS_SOAK_SOAK_RUN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/soak/metrics_scrape.h"
#include "tools/soak/monitor_sample.h"
#include "tools/soak/soak_options.h"
#include "tools/soak/soak_tally.h"

namespace ember::soak {

struct SoakRun {
  SoakOptions options;
  SoakTally tally;
  // Streams started; each either ended with a status (in `tally`) or was abandoned: still open
  // when the drain timeout passed, then cancelled by the tool.
  int64_t started = 0;
  int64_t abandoned = 0;
  // Tokens received over all streams (abandoned ones included).
  int64_t tokens = 0;
  // Why the load stopped before --duration_seconds ("" when it ran its course).
  std::string ended_early;
  // From the load's start to its end, and from then to the last stream's end.
  double load_seconds = 0;
  double stream_drain_seconds = 0;
  // Every sample, in time order: baseline, load, drain, final.
  std::vector<MonitorSample> samples;
  // The server's figures before the load and after the drain wait; absent without --metrics_url
  // or when the scrape failed (then `metrics_error` says why).
  std::optional<ServerMetrics> metrics_before;
  std::optional<ServerMetrics> metrics_after;
  std::string metrics_error;
  int64_t failed_scrapes = 0;
  // The first /proc read that failed ("" when none): the server died or is not ours to read.
  std::string process_error;
  // Whether /proc/<pid> could still be read after the drain (meaningful with --server_pid only).
  bool server_alive_at_end = false;
  // The health check after the run: "SERVING", another status name, or the call's error.
  std::string health_after;
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_SOAK_RUN_H_
