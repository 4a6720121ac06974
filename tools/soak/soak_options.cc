#include "tools/soak/soak_options.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tools/soak/metrics_scrape.h"

namespace ember::soak {
namespace {

absl::Status Invalid(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", problem));
}

}  // namespace

absl::Status ValidateSoakOptions(const SoakOptions& o) {
  if (o.address.empty()) return Invalid("address", "must not be empty");
  if (o.load.clients < 1 || o.load.clients > 10000) {
    return Invalid("clients", absl::StrCat("must be in [1, 10000], got ", o.load.clients));
  }
  if (o.duration <= absl::ZeroDuration()) return Invalid("duration_seconds", "must be > 0");
  const RequestShape& s = o.load.shape;
  if (s.max_new_tokens < 1) return Invalid("max_new_tokens", "must be >= 1");
  if (s.cancel_after_tokens_max < 1) return Invalid("cancel_after_tokens", "must be >= 1");
  if (s.deadline_min_ms < 1 || s.deadline_max_ms < s.deadline_min_ms) {
    return Invalid("deadline_ms_min",
                   absl::StrCat("need 1 <= --deadline_ms_min <= --deadline_ms_max, got ",
                                s.deadline_min_ms, " and ", s.deadline_max_ms));
  }
  if (s.slow_read_delay_ms < 0) return Invalid("slow_read_delay_ms", "must be >= 0");
  if (o.server_pid < 0) return Invalid("server_pid", "must be >= 0");
  if (!o.metrics_url.empty()) {
    if (absl::Status url = ParseMetricsUrl(o.metrics_url).status(); !url.ok()) {
      return Invalid("metrics_url", url.message());
    }
  }
  if (o.drain_timeout <= absl::ZeroDuration()) {
    return Invalid("drain_timeout_seconds", "must be > 0");
  }
  // A slow reader may get one token per message and sleep after each: the drain must wait for
  // the longest one, or a healthy stream would be counted as never ending.
  const absl::Duration slowest_read =
      absl::Milliseconds(static_cast<int64_t>(s.max_new_tokens) * s.slow_read_delay_ms);
  if (o.load.mix.weight(RequestKind::kSlowRead) > 0 && slowest_read * 2 > o.drain_timeout) {
    return Invalid(
        "drain_timeout_seconds",
        absl::StrCat("must be at least twice --max_new_tokens x --slow_read_delay_ms (",
                     absl::FormatDuration(slowest_read), ", the longest a slow reader may take)"));
  }
  if (o.sample_period <= absl::ZeroDuration()) return Invalid("sample_period", "must be > 0");
  if (o.max_rss_slope_mb_per_minute < 0) {
    return Invalid("max_rss_slope_mb_per_min", "must be >= 0 (0: no limit)");
  }
  if (o.progress_period < absl::ZeroDuration()) {
    return Invalid("progress_seconds", "must be >= 0");
  }
  return client::ValidateClientOptions(o.client);
}

}  // namespace ember::soak
