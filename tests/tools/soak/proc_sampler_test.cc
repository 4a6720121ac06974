// /proc parsing on fixed text, and sampling this test's own process.
#include "tools/soak/proc_sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/temp_dir.h"

namespace ember::soak {
namespace {

using ::testing::HasSubstr;

// An excerpt of a real /proc/<pid>/status.
constexpr char kStatus[] =
    "Name:\tember_server\n"
    "State:\tS (sleeping)\n"
    "VmPeak:\t  812344 kB\n"
    "VmRSS:\t   61320 kB\n"
    "RssAnon:\t   40000 kB\n"
    "Threads:\t17\n"
    "SigQ:\t0/63459\n";

TEST(ProcSamplerTest, ParsesRssAndThreads) {
  absl::StatusOr<ProcStatus> status = ParseProcStatus(kStatus);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->rss_bytes, 61320 * 1024);
  EXPECT_EQ(status->threads, 17);
}

TEST(ProcSamplerTest, MissingOrMalformedFieldsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"State:\tS\nThreads:\t3\n", "VmRSS"},
      {"State:\tS\nVmRSS:\t12 MB\nThreads:\t3\n", "VmRSS"},
      {"State:\tS\nVmRSS:\tx kB\nThreads:\t3\n", "VmRSS"},
      {"State:\tS\nVmRSS:\t12 kB\n", "Threads"},
      {"State:\tS\nVmRSS:\t12 kB\nThreads:\t0\n", "Threads"},
      // A prefix of another field's name is not the field.
      {"State:\tS\nVmRSSx:\t12 kB\nThreads:\t3\n", "VmRSS"},
  };
  for (const auto& [text, field] : cases) {
    absl::StatusOr<ProcStatus> status = ParseProcStatus(text);
    ASSERT_FALSE(status.ok()) << text;
    EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.status().message(), HasSubstr(field)) << text;
  }
}

TEST(ProcSamplerTest, AZombieCountsAsExited) {
  absl::StatusOr<ProcStatus> status =
      ParseProcStatus("Name:\tx\nState:\tZ (zombie)\nThreads:\t1\n");
  EXPECT_EQ(status.status().code(), absl::StatusCode::kNotFound);
}

TEST(ProcSamplerTest, SamplesThisProcessAndSeesANewDescriptor) {
  absl::StatusOr<ProcessSample> before = SampleProcess(::getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GT(before->rss_bytes, 0);
  EXPECT_GE(before->threads, 1);
  EXPECT_GE(before->open_fds, 3);  // stdin, stdout, stderr at least
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<ProcessSample> after = SampleProcess(::getpid());
  ::close(fd);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->open_fds, before->open_fds + 1);
}

TEST(ProcSamplerTest, AMissingProcessIsNotFound) {
  // Above the kernel's pid_max limit (2^22), so no process can have it.
  EXPECT_EQ(SampleProcess(1 << 23).status().code(), absl::StatusCode::kNotFound);
}

TEST(ProcSamplerTest, CountsDirectoryEntries) {
  testing::TempDir dir;
  EXPECT_EQ(*CountDirectoryEntries(dir.path()), 0);
  dir.Write("a", "1");
  dir.Write("b", "2");
  EXPECT_EQ(*CountDirectoryEntries(dir.path()), 2);
  EXPECT_EQ(CountDirectoryEntries(dir.File("missing")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ember::soak
