// How many OS threads this process has now, and a bounded wait for that count: for tests of which
// threads a component keeps (an OpenMP team's workers exit shortly after it is released, not at
// once).
#ifndef EMBER_TESTS_TEST_UTIL_PROCESS_THREADS_H_
#define EMBER_TESTS_TEST_UTIL_PROCESS_THREADS_H_

#include <cstdint>

#include "absl/time/time.h"

namespace ember::testing {

// The entries of /proc/self/task.
int64_t ProcessThreadCount();

// The thread count to compare later counts with: first starts and joins one thread, because a
// sanitizer runtime may start a helper thread of its own at the process's first thread creation
// (TSan does), which would otherwise show up in the middle of a test.
int64_t BaselineProcessThreadCount();

// Polls until ProcessThreadCount() == expected or `timeout` passes; returns the last count seen.
int64_t WaitForProcessThreadCount(int64_t expected, absl::Duration timeout = absl::Seconds(10));

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_PROCESS_THREADS_H_
