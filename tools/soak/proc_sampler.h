// Resident memory, threads and open file descriptors of a process, read from /proc.
#ifndef EMBER_TOOLS_SOAK_PROC_SAMPLER_H_
#define EMBER_TOOLS_SOAK_PROC_SAMPLER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::soak {

struct ProcStatus {
  int64_t rss_bytes = 0;  // VmRSS
  int64_t threads = 0;    // Threads
};

// Parses the text of /proc/<pid>/status. NOT_FOUND for a zombie (State Z: exited, not reaped);
// INVALID_ARGUMENT naming the field when VmRSS (in kB) or Threads is missing or malformed.
absl::StatusOr<ProcStatus> ParseProcStatus(absl::string_view text);

struct ProcessSample {
  int64_t rss_bytes = 0;
  int64_t threads = 0;
  int64_t open_fds = 0;  // entries of /proc/<pid>/fd
};

// Reads /proc/<pid>/status and counts /proc/<pid>/fd. NOT_FOUND when the process is gone;
// PERMISSION_DENIED when its fd directory is not readable (another user's process).
absl::StatusOr<ProcessSample> SampleProcess(int pid);

// The entries of a directory other than "." and "..", e.g. /proc/self/fd.
absl::StatusOr<int64_t> CountDirectoryEntries(const std::string& dir);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_PROC_SAMPLER_H_
