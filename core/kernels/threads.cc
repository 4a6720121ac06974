#include "core/kernels/threads.h"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace ember {
namespace {

// CPUs this process may run on (taskset, a container's cpuset); all online ones if unknown.
int AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

}  // namespace

int CgroupCpuLimit(const std::string& cpu_max_contents) {
  // cgroup v2 cpu.max: "<quota> <period>" in microseconds, or "max <period>" for no limit.
  std::vector<std::string> fields =
      absl::StrSplit(cpu_max_contents, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  int64_t quota = 0, period = 0;
  if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &quota) ||
      !absl::SimpleAtoi(fields[1], &period) || quota <= 0 || period <= 0) {
    return 0;
  }
  return static_cast<int>((quota + period - 1) / period);  // a partial CPU still gets a thread
}

int DefaultIntraOpThreads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr) {
    int n = 0;
    if (absl::SimpleAtoi(env, &n) && n > 0) return n;
  }
  int threads = AffinityCpus();
  std::ifstream cpu_max("/sys/fs/cgroup/cpu.max");
  std::string contents;
  std::getline(cpu_max, contents);
  if (const int limit = CgroupCpuLimit(contents); limit > 0 && limit < threads) threads = limit;
  return threads;
}

void SetIntraOpThreads(int threads) {
  omp_set_num_threads(threads > 0 ? threads : DefaultIntraOpThreads());
}

int IntraOpThreads() { return omp_get_max_threads(); }

void ReleaseIntraOpTeam() {
  // Nonzero only inside a parallel region, where there is nothing to release: ignored.
  (void)omp_pause_resource(omp_pause_soft, omp_get_initial_device());
}

void ParallelFor(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 1) {
    if (n == 1) fn(0);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace ember
