#include "tools/soak/soak_checks.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ember::soak {
namespace {

Check Make(std::string name, bool passed, std::string detail) {
  return Check{std::move(name), passed ? Verdict::kPass : Verdict::kFail, std::move(detail)};
}

Check Skip(std::string name, std::string why) {
  return Check{std::move(name), Verdict::kSkipped, std::move(why)};
}

// One of the server's gauges after the drain wait must be 0.
Check GaugeAtZero(const SoakRun& run, const char* name, const char* series,
                  double ServerMetrics::*gauge) {
  if (run.options.metrics_url.empty()) return Skip(name, "no --metrics_url");
  if (!run.metrics_after.has_value()) {
    return Make(name, false, absl::StrCat("no scrape after the drain: ", run.metrics_error));
  }
  const double value = (*run.metrics_after).*gauge;
  return Make(name, value == 0, absl::StrCat(series, " = ", value));
}

}  // namespace

std::vector<Check> EvaluateChecks(const SoakRun& run, const ResourceStats& resources) {
  std::vector<Check> checks;
  const int64_t ended = run.tally.ended();
  checks.push_back(Make("every stream ended with a status",
                        run.abandoned == 0 && ended == run.started,
                        absl::StrCat(run.started, " started, ", ended, " ended with a status, ",
                                     run.abandoned, " still open at the drain timeout")));
  checks.push_back(Make("no unexpected status", run.tally.unexpected() == 0,
                        absl::StrCat(run.tally.unexpected(), " unexpected of ", ended)));
  int64_t ok = 0;
  for (RequestKind kind : kAllRequestKinds) {
    const auto it = run.tally.kind(kind).by_code.find(absl::StatusCode::kOk);
    if (it != run.tally.kind(kind).by_code.end()) ok += it->second;
  }
  checks.push_back(Make("requests were served", ok > 0, absl::StrCat(ok, " streams ended OK")));
  checks.push_back(GaugeAtZero(run, "KV blocks in use back to 0", "ember_kv_cache_blocks_used",
                               &ServerMetrics::kv_blocks_used));
  checks.push_back(GaugeAtZero(run, "waiting queue back to 0", "ember_requests_waiting",
                               &ServerMetrics::requests_waiting));
  checks.push_back(GaugeAtZero(run, "running requests back to 0", "ember_requests_running",
                               &ServerMetrics::requests_running));
  if (run.options.server_pid == 0) {
    checks.push_back(Skip("server process alive", "no --server_pid"));
  } else {
    checks.push_back(Make("server process alive", run.server_alive_at_end,
                          run.server_alive_at_end ? absl::StrCat("pid ", run.options.server_pid)
                                                  : absl::StrCat("pid ", run.options.server_pid,
                                                                 ": ", run.process_error)));
  }
  checks.push_back(Make("server SERVING after the run", run.health_after == "SERVING",
                        absl::StrCat("health: ", run.health_after)));
  const double limit = run.options.max_rss_slope_mb_per_minute;
  if (limit <= 0) {
    checks.push_back(Skip("RSS slope within limit", "no --max_rss_slope_mb_per_min"));
  } else if (!resources.rss_slope_mb_per_minute.has_value()) {
    checks.push_back(Make("RSS slope within limit", false,
                          "too few RSS samples in the second half of the load to fit a slope"));
  } else {
    const double slope = *resources.rss_slope_mb_per_minute;
    checks.push_back(Make("RSS slope within limit", slope <= limit,
                          absl::StrFormat("%+.3f MB/min (limit %.3f)", slope, limit)));
  }
  return checks;
}

bool AllPassed(const std::vector<Check>& checks) {
  for (const Check& c : checks) {
    if (c.verdict == Verdict::kFail) return false;
  }
  return true;
}

}  // namespace ember::soak
