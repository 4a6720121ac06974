// Counts the generation calls (Generate, GenerateStream) between their reactor's start and its
// OnDone, so the drain can wait for work, not for connections: once this reaches zero, nothing a
// client is waiting for remains, and the server may end health Watches and close connections.
//
// Thread-safe: reactors Begin/End on gRPC threads; the drain waits on its own thread.
#ifndef EMBER_SERVER_IN_FLIGHT_CALLS_H_
#define EMBER_SERVER_IN_FLIGHT_CALLS_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ember {

class InFlightCalls {
 public:
  void Begin() {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  void End() {
    absl::MutexLock lock(&mu_);
    --count_;
  }
  // True once no call is in flight; false when `deadline` passed first.
  bool WaitForNone(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ == 0; };
    return mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
  }
  int64_t count() const {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  mutable absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ember

#endif  // EMBER_SERVER_IN_FLIGHT_CALLS_H_
