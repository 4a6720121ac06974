// Samples the server every period on its own thread: /proc figures of --server_pid, the metrics
// endpoint's gauges, and the load's progress. Keeps every sample for the report and the CSV.
#ifndef EMBER_TOOLS_SOAK_SERVER_MONITOR_H_
#define EMBER_TOOLS_SOAK_SERVER_MONITOR_H_

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tools/soak/monitor_sample.h"

namespace ember::soak {

struct MonitorOptions {
  // The server's process id; 0 means do not sample /proc.
  int server_pid = 0;
  // The metrics endpoint; absent means do not scrape.
  std::optional<MetricsEndpoint> metrics;
  // Time between samples. > 0.
  absl::Duration period = absl::Seconds(1);
  // Bound on one scrape, so a hung endpoint delays one sample instead of the run.
  absl::Duration scrape_timeout = absl::Milliseconds(800);
};

// Thread-safe. The destructor stops the sampling thread.
class ServerMonitor {
 public:
  // `progress` is called from the sampling thread (and from Sample) and must be thread-safe.
  ServerMonitor(MonitorOptions options, std::function<LoadProgress()> progress);
  ~ServerMonitor();
  ServerMonitor(const ServerMonitor&) = delete;
  ServerMonitor& operator=(const ServerMonitor&) = delete;

  // Takes one sample now (on the calling thread) and records it. `origin` is t = 0.
  MonitorSample Sample(SoakPhase phase, absl::Time origin);

  // Samples every period on a thread, tagging samples with the current phase, until Stop.
  void StartPeriodic(absl::Time origin);
  void SetPhase(SoakPhase phase);
  void Stop();

  std::vector<MonitorSample> samples() const;
  // The first error of each kind seen while sampling ("" when none), for the report: a failing
  // /proc read means the server died; a failing scrape, that its endpoint went away.
  std::string first_process_error() const;
  std::string first_metrics_error() const;

 private:
  const MonitorOptions options_;
  const std::function<LoadProgress()> progress_;
  std::thread thread_;
  absl::Notification stop_;

  mutable absl::Mutex mu_;
  SoakPhase phase_ ABSL_GUARDED_BY(mu_) = SoakPhase::kLoad;
  std::vector<MonitorSample> samples_ ABSL_GUARDED_BY(mu_);
  std::string process_error_ ABSL_GUARDED_BY(mu_);
  std::string metrics_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_SERVER_MONITOR_H_
