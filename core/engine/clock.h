// An injectable clock, so deadline and latency logic is testable without sleeping (tests use
// tests/test_util/fake_clock.h).
#ifndef EMBER_CORE_ENGINE_CLOCK_H_
#define EMBER_CORE_ENGINE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ember {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide real clock.
  static const Clock* Real();
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_CLOCK_H_
