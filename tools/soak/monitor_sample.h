// One second of a soak as the monitor saw it: the server process, its metrics and the load.
#ifndef EMBER_TOOLS_SOAK_MONITOR_SAMPLE_H_
#define EMBER_TOOLS_SOAK_MONITOR_SAMPLE_H_

#include <optional>

#include "tools/soak/load_generator.h"
#include "tools/soak/metrics_scrape.h"
#include "tools/soak/proc_sampler.h"

namespace ember::soak {

// When in the run a sample was taken.
enum class SoakPhase {
  kBaseline,  // before the load starts
  kLoad,      // clients sending requests
  kDrain,     // load over: waiting for in-flight streams and the server's queues
  kFinal,     // after the drain wait
};

const char* SoakPhaseName(SoakPhase phase);

struct MonitorSample {
  // Seconds since the load started (negative for the baseline).
  double t_seconds = 0;
  SoakPhase phase = SoakPhase::kLoad;
  // Absent when no --server_pid was given or the read failed.
  std::optional<ProcessSample> process;
  // Absent when no --metrics_url was given or the scrape failed.
  std::optional<ServerMetrics> metrics;
  LoadProgress load;
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_MONITOR_SAMPLE_H_
