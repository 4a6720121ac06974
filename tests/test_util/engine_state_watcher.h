// An EngineObserver for engine tests: waits on what the engine reports at the end of its steps
// (queue and KV-cache state) instead of polling Snapshot() with sleeps. Thread-safe: the engine's
// loop thread reports, a test thread waits.
#ifndef EMBER_TESTS_TEST_UTIL_ENGINE_STATE_WATCHER_H_
#define EMBER_TESTS_TEST_UTIL_ENGINE_STATE_WATCHER_H_

#include <cstdint>
#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/engine/engine_observer.h"

namespace ember::testing {

struct ReportedQueueState {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_used = 0;
  int64_t reports = 0;  // OnQueueState calls so far
};

class EngineStateWatcher : public EngineObserver {
 public:
  // True once `done` holds for the latest report; false after `timeout`.
  bool WaitUntil(const std::function<bool(const ReportedQueueState&)>& done,
                 absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    auto holds = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(state_); };
    return mu_.AwaitWithTimeout(absl::Condition(&holds), timeout);
  }
  // The KV blocks in use once the engine reports `blocks` (or after the timeout), as reported.
  int64_t WaitForBlocksUsed(int64_t blocks, absl::Duration timeout = absl::Seconds(10)) {
    WaitUntil([blocks](const ReportedQueueState& s) { return s.kv_blocks_used == blocks; },
              timeout);
    absl::MutexLock lock(&mu_);
    return state_.kv_blocks_used;
  }

  void OnStep(const StepStats&) override {}
  void OnQueueState(int64_t running, int64_t waiting, int64_t kv_blocks_used, int64_t) override {
    absl::MutexLock lock(&mu_);
    state_.running = running;
    state_.waiting = waiting;
    state_.kv_blocks_used = kv_blocks_used;
    ++state_.reports;
  }
  void OnToken(bool, absl::Duration) override {}
  void OnRequestFinished(FinishReason, const RequestTimings&) override {}
  void OnRequestRejected() override {}

 private:
  absl::Mutex mu_;
  ReportedQueueState state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_ENGINE_STATE_WATCHER_H_
