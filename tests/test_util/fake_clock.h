// A clock that moves only when told to: deadline, stall and latency tests without sleeping.
// Thread-safe.
#ifndef EMBER_TESTS_TEST_UTIL_FAKE_CLOCK_H_
#define EMBER_TESTS_TEST_UTIL_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/engine/clock.h"

namespace ember {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch()) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ember

#endif  // EMBER_TESTS_TEST_UTIL_FAKE_CLOCK_H_
