#include "server/health.h"

#include "core/util/logging.h"

namespace ember {

HealthReporter::HealthReporter(grpc::HealthCheckServiceInterface* health) : health_(health) {
  Set(/*ready=*/false, /*live=*/true);
}

HealthReporter::~HealthReporter() {
  stop_.Notify();
  if (watchdog_.joinable()) watchdog_.join();
}

void HealthReporter::Set(bool ready, bool live) {
  if (health_ == nullptr) return;
  health_->SetServingStatus("", ready);
  health_->SetServingStatus(kGenerationService, ready);
  health_->SetServingStatus(kLivenessService, live);
}

void HealthReporter::SetReady(Engine* engine, absl::Duration stall_timeout, const Clock* clock) {
  {
    absl::MutexLock lock(&mu_);
    engine_ = engine;
    stall_timeout_ = stall_timeout;
    clock_ = clock != nullptr ? clock : Clock::Real();
  }
  Set(true, true);
  watchdog_ = std::thread([this, period = stall_timeout / 4] {
    while (!stop_.WaitForNotificationWithTimeout(std::max(period, absl::Milliseconds(10)))) {
      CheckOnce();
    }
  });
}

void HealthReporter::SetDraining() {
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
  }
  if (health_ != nullptr) health_->Shutdown();  // all services NOT_SERVING, final
}

void HealthReporter::CheckOnce() {
  absl::MutexLock lock(&mu_);
  if (engine_ == nullptr || draining_) return;
  const EngineSnapshot s = engine_->Snapshot();
  const bool stalled = s.busy && clock_->Now() - s.last_progress > stall_timeout_;
  if (stalled == stalled_) return;
  stalled_ = stalled;
  if (stalled) {
    EMBER_LOG(ERROR) << "engine loop made no progress for "
                     << absl::FormatDuration(clock_->Now() - s.last_progress)
                     << " with work pending: liveness and readiness NOT_SERVING";
  } else {
    EMBER_LOG(INFO) << "engine loop progressing again: SERVING";
  }
  Set(!stalled, !stalled);
}

}  // namespace ember
