// Helpers for the fault-injection tests: waiting on conditions (never on fixed sleeps), child
// processes that can be killed for real, percentiles, and this process's resident memory.
#ifndef EMBER_TESTS_SERVER_FAULT_TEST_UTIL_H_
#define EMBER_TESTS_SERVER_FAULT_TEST_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ember::testing {

// Polls `done` (about every millisecond) until it returns true or `timeout` passes; returns its
// last value. Timeouts are generous on purpose: they only bound how long a failing test hangs.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(30));

// A child process started with posix_spawn, its stdout and stderr sent to /dev/null.
// Destroying a still-running child SIGKILLs and reaps it, so a failed test leaves no orphans.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Sends `signal`; false when the child is gone.
  bool Signal(int signal);
  // Reaps the child: its exit code, or 128 + the signal that ended it.
  int Wait();

 private:
  pid_t pid_ = -1;
};

// The p-th percentile (0..100, nearest rank) of `values`; NaN when empty.
double Percentile(std::vector<double> values, double p);

// VmRSS of this process, in bytes (0 when /proc is unreadable).
int64_t ResidentBytes();

// True in builds with AddressSanitizer (whose quarantine keeps freed memory resident).
bool UnderAddressSanitizer();

}  // namespace ember::testing

#endif  // EMBER_TESTS_SERVER_FAULT_TEST_UTIL_H_
