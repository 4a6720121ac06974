#include "tests/test_util/process_threads.h"

#include <filesystem>
#include <thread>

#include "absl/time/clock.h"

namespace ember::testing {

int64_t ProcessThreadCount() {
  int64_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

int64_t BaselineProcessThreadCount() {
  std::thread([] {}).join();
  // The joined thread may take a moment to leave /proc; the count then stays put.
  int64_t count = ProcessThreadCount();
  for (int settled = 0; settled < 3;) {
    absl::SleepFor(absl::Milliseconds(5));
    const int64_t now = ProcessThreadCount();
    settled = now == count ? settled + 1 : 0;
    count = now;
  }
  return count;
}

int64_t WaitForProcessThreadCount(int64_t expected, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  int64_t count = ProcessThreadCount();
  while (count != expected && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(5));
    count = ProcessThreadCount();
  }
  return count;
}

}  // namespace ember::testing
