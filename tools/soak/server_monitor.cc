#include "tools/soak/server_monitor.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace ember::soak {

const char* SoakPhaseName(SoakPhase phase) {
  switch (phase) {
    case SoakPhase::kBaseline:
      return "baseline";
    case SoakPhase::kLoad:
      return "load";
    case SoakPhase::kDrain:
      return "drain";
    case SoakPhase::kFinal:
      return "final";
  }
  return "?";
}

ServerMonitor::ServerMonitor(MonitorOptions options, std::function<LoadProgress()> progress)
    : options_(std::move(options)), progress_(std::move(progress)) {}

ServerMonitor::~ServerMonitor() { Stop(); }

MonitorSample ServerMonitor::Sample(SoakPhase phase, absl::Time origin) {
  MonitorSample sample;
  sample.phase = phase;
  const absl::Time now = absl::Now();
  sample.t_seconds = absl::ToDoubleSeconds(now - origin);
  std::string process_error;
  std::string metrics_error;
  if (options_.server_pid > 0) {
    absl::StatusOr<ProcessSample> process = SampleProcess(options_.server_pid);
    if (process.ok()) {
      sample.process = *process;
    } else {
      process_error = process.status().ToString();
    }
  }
  if (options_.metrics.has_value()) {
    absl::StatusOr<ServerMetrics> metrics =
        ScrapeServerMetrics(*options_.metrics, options_.scrape_timeout);
    if (metrics.ok()) {
      sample.metrics = *metrics;
    } else {
      metrics_error = metrics.status().ToString();
    }
  }
  sample.load = progress_();
  absl::MutexLock lock(&mu_);
  if (process_error_.empty()) process_error_ = std::move(process_error);
  if (metrics_error_.empty()) metrics_error_ = std::move(metrics_error);
  samples_.push_back(sample);
  return sample;
}

void ServerMonitor::StartPeriodic(absl::Time origin) {
  thread_ = std::thread([this, origin] {
    // Ticks on a fixed schedule from `origin`, so a slow scrape does not shift later samples;
    // ticks a slow sample overran are skipped rather than taken in a burst.
    for (int64_t tick = 1;;) {
      if (stop_.WaitForNotificationWithDeadline(origin + tick * options_.period)) return;
      SoakPhase phase;
      {
        absl::MutexLock lock(&mu_);
        phase = phase_;
      }
      Sample(phase, origin);
      tick = std::max(tick + 1, (absl::Now() - origin) / options_.period + 1);
    }
  });
}

void ServerMonitor::SetPhase(SoakPhase phase) {
  absl::MutexLock lock(&mu_);
  phase_ = phase;
}

void ServerMonitor::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

std::vector<MonitorSample> ServerMonitor::samples() const {
  absl::MutexLock lock(&mu_);
  return samples_;
}

std::string ServerMonitor::first_process_error() const {
  absl::MutexLock lock(&mu_);
  return process_error_;
}

std::string ServerMonitor::first_metrics_error() const {
  absl::MutexLock lock(&mu_);
  return metrics_error_;
}

}  // namespace ember::soak
