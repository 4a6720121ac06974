// The default intra-op thread count: OMP_NUM_THREADS, else the CPUs the process may use, capped by
// a cgroup v2 CPU quota; ParallelFor runs every index exactly once; ReleaseIntraOpTeam ends the
// calling thread's team.
#include "core/kernels/threads.h"

#include <sched.h>
#include <stdlib.h>

#include <atomic>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_util/process_threads.h"

namespace ember {
namespace {

TEST(ThreadsTest, CgroupQuotaRoundsUpToWholeCpus) {
  EXPECT_EQ(CgroupCpuLimit("200000 100000\n"), 2);
  EXPECT_EQ(CgroupCpuLimit("150000 100000"), 2);  // 1.5 CPUs: 2 threads, the last one partly
  EXPECT_EQ(CgroupCpuLimit("50000 100000"), 1);
  EXPECT_EQ(CgroupCpuLimit("max 100000\n"), 0);  // no limit
  EXPECT_EQ(CgroupCpuLimit(""), 0);
  EXPECT_EQ(CgroupCpuLimit("garbage"), 0);
  EXPECT_EQ(CgroupCpuLimit("-1 100000"), 0);
  EXPECT_EQ(CgroupCpuLimit("100000 0"), 0);
}

TEST(ThreadsTest, DefaultFollowsOmpNumThreadsThenTheAffinityMask) {
  const char* saved = getenv("OMP_NUM_THREADS");
  const std::string saved_value = saved != nullptr ? saved : "";
  setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(DefaultIntraOpThreads(), 3);
  unsetenv("OMP_NUM_THREADS");
  const int threads = DefaultIntraOpThreads();
  setenv("OMP_NUM_THREADS", "not a number", 1);  // ignored, like an unset variable
  EXPECT_EQ(DefaultIntraOpThreads(), threads);
  unsetenv("OMP_NUM_THREADS");
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_GE(threads, 1);
  EXPECT_LE(threads, CPU_COUNT(&set));
  SetIntraOpThreads(0);
  EXPECT_EQ(IntraOpThreads(), threads);
  SetIntraOpThreads(1);
  EXPECT_EQ(IntraOpThreads(), 1);
  if (saved != nullptr) setenv("OMP_NUM_THREADS", saved_value.c_str(), 1);
}

TEST(ThreadsTest, ParallelForRunsEveryIndexExactlyOnce) {
  for (int64_t n : {0, 1, 2, 3, 17, 1000}) {
    std::vector<std::atomic<int>> runs(static_cast<size_t>(n));
    for (auto& r : runs) r.store(0);
    ParallelFor(n, [&](int64_t i) { runs[static_cast<size_t>(i)].fetch_add(1); });
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(runs[static_cast<size_t>(i)].load(), 1) << n << " " << i;
  }
}

// A parallel region leaves its team's workers parked for the next one; ReleaseIntraOpTeam ends
// them (libgomp shortens every team's spin while the process has more of them than CPUs), and the
// next region starts a new team that computes as before.
TEST(ThreadsTest, ReleaseIntraOpTeamEndsTheWorkersAndTheNextRegionStartsAgain) {
  ReleaseIntraOpTeam();
  const int64_t before = testing::BaselineProcessThreadCount();
  SetIntraOpThreads(3);
  std::atomic<int> runs{0};
  ParallelFor(64, [&](int64_t) { runs.fetch_add(1); });
  EXPECT_EQ(runs.load(), 64);
  EXPECT_EQ(testing::ProcessThreadCount(), before + 2) << "a team of 3 parks 2 workers";
  ReleaseIntraOpTeam();
  EXPECT_EQ(testing::WaitForProcessThreadCount(before), before);
  ParallelFor(64, [&](int64_t) { runs.fetch_add(1); });
  EXPECT_EQ(runs.load(), 128);
  ReleaseIntraOpTeam();
  EXPECT_EQ(testing::WaitForProcessThreadCount(before), before);
  SetIntraOpThreads(0);
}

}  // namespace
}  // namespace ember
