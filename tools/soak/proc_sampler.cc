#include "tools/soak/proc_sampler.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ember::soak {
namespace {

// The value after "<key>:" on its own line, whitespace-trimmed; empty when absent.
absl::string_view FieldValue(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, ":")) {
      return absl::StripAsciiWhitespace(line);
    }
  }
  return {};
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  const absl::StatusCode code = error == ENOENT || error == ESRCH ? absl::StatusCode::kNotFound
                                : error == EACCES ? absl::StatusCode::kPermissionDenied
                                                  : absl::StatusCode::kUnavailable;
  return absl::Status(code, absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<ProcStatus> ParseProcStatus(absl::string_view text) {
  ProcStatus status;
  // An exited process not yet reaped by its parent keeps a status without memory fields.
  if (absl::StartsWith(FieldValue(text, "State"), "Z")) {
    return absl::NotFoundError("/proc status: the process has exited (zombie)");
  }
  absl::string_view rss = FieldValue(text, "VmRSS");
  // The kernel always writes kB ("VmRSS:     1234 kB").
  if (!absl::ConsumeSuffix(&rss, "kB")) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc status: VmRSS missing or not in kB: \"", rss, "\""));
  }
  int64_t rss_kb = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rss), &rss_kb) || rss_kb < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc status: VmRSS not a number: \"", rss, "\""));
  }
  status.rss_bytes = rss_kb * 1024;
  const absl::string_view threads = FieldValue(text, "Threads");
  if (!absl::SimpleAtoi(threads, &status.threads) || status.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc status: Threads missing or malformed: \"", threads, "\""));
  }
  return status;
}

absl::StatusOr<int64_t> CountDirectoryEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, dir);
  int64_t count = 0;
  while (const dirent* entry = ::readdir(d)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) ++count;
  }
  ::closedir(d);
  return count;
}

absl::StatusOr<ProcessSample> SampleProcess(int pid) {
  const std::string base = absl::StrCat("/proc/", pid);
  std::ifstream in(base + "/status");
  if (!in) return ErrnoStatus(errno, base + "/status");
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<ProcStatus> status = ParseProcStatus(text.str());
  if (!status.ok()) {
    // A process that exited between open and read leaves an empty or partial status.
    if (::access(base.c_str(), F_OK) != 0) return ErrnoStatus(errno, base);
    return absl::Status(status.status().code(),
                        absl::StrCat("pid ", pid, ": ", status.status().message()));
  }
  absl::StatusOr<int64_t> fds = CountDirectoryEntries(base + "/fd");
  if (!fds.ok()) return fds.status();
  return ProcessSample{status->rss_bytes, status->threads, *fds};
}

}  // namespace ember::soak
