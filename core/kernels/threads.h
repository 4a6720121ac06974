// Intra-op parallelism. ember's kernels and oneDNN share one OpenMP thread team, so a single
// setting governs both.
#ifndef EMBER_CORE_KERNELS_THREADS_H_
#define EMBER_CORE_KERNELS_THREADS_H_

#include <cstdint>
#include <functional>
#include <string>

namespace ember {

// Sets the number of threads each kernel called FROM THIS THREAD may use (OpenMP keeps the setting
// per thread: the engine loop calls this on its own thread). 0 or negative means
// DefaultIntraOpThreads().
void SetIntraOpThreads(int threads);

// OMP_NUM_THREADS when set; else the CPUs this process may use: its affinity mask (taskset, a
// cpuset) capped by a cgroup v2 CPU quota (a Kubernetes CPU limit), so a container limited to 2
// CPUs on a 64-core node runs 2 threads, not 64 that the quota would throttle.
int DefaultIntraOpThreads();

// The CPU count a cgroup v2 `cpu.max` file allows, rounded up; 0 for "max" (no limit) or
// unreadable contents. Exposed for tests.
int CgroupCpuLimit(const std::string& cpu_max_contents);

// The calling thread's current setting (>= 1).
int IntraOpThreads();

// Frees the calling thread's OpenMP team: its idle worker threads exit, and the thread's next
// parallel region starts a new team. Why: between two parallel regions libgomp lets a team's idle
// workers spin (about 3 ms) before they sleep, but only while the process holds no more OpenMP
// threads than CPUs; past that they spin ~100 iterations, so each of a decode step's ~200 regions
// pays a futex wake-up. One team left on another thread (the model load on the caller's thread, an
// idle second engine) crosses that line on a 2-CPU machine: engine steps measured 30 % slower at
// int4 and 15 % at bf16 (16 sequences, TinyLlama shapes). Does nothing inside a parallel region.
void ReleaseIntraOpTeam();

// Runs fn(i) for every i in [0, n) on the calling thread's intra-op team, items handed out one at
// a time (for uneven work such as per-request post-processing). fn must not throw and must be safe
// to run concurrently for different i. n <= 1 runs inline.
void ParallelFor(int64_t n, const std::function<void(int64_t)>& fn);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_THREADS_H_
