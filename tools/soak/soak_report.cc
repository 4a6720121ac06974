#include "tools/soak/soak_report.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/soak/expected_status.h"

namespace ember::soak {
namespace {

double PerSecond(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

std::string Mb(int64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}

// The requests table: one row per kind (and a total), one column per status code seen.
void AppendRequestTable(const SoakRun& run, std::string& out) {
  const std::vector<absl::StatusCode> codes = run.tally.codes_seen();
  std::vector<std::string> header = {"kind", "ended"};
  for (absl::StatusCode code : codes) header.push_back(absl::StatusCodeToString(code));
  header.push_back("unexpected");
  header.push_back("tokens");
  std::vector<std::vector<std::string>> rows = {header};
  KindTally total;
  for (RequestKind kind : kAllRequestKinds) {
    const KindTally& t = run.tally.kind(kind);
    if (run.options.load.mix.weight(kind) == 0 && t.ended == 0) continue;
    std::vector<std::string> row = {std::string(RequestKindName(kind)), absl::StrCat(t.ended)};
    for (absl::StatusCode code : codes) {
      const auto it = t.by_code.find(code);
      row.push_back(absl::StrCat(it == t.by_code.end() ? 0 : it->second));
      if (it != t.by_code.end()) total.by_code[code] += it->second;
    }
    row.push_back(absl::StrCat(t.unexpected));
    row.push_back(absl::StrCat(t.tokens));
    rows.push_back(std::move(row));
    total.ended += t.ended;
    total.unexpected += t.unexpected;
    total.tokens += t.tokens;
  }
  std::vector<std::string> total_row = {"total", absl::StrCat(total.ended)};
  for (absl::StatusCode code : codes) total_row.push_back(absl::StrCat(total.by_code[code]));
  total_row.push_back(absl::StrCat(total.unexpected));
  total_row.push_back(absl::StrCat(total.tokens));
  rows.push_back(std::move(total_row));

  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    out += " ";
    for (size_t i = 0; i < row.size(); ++i) {
      // The kind column reads left-aligned, the counts right-aligned.
      out += i == 0 ? absl::StrFormat(" %-*s", static_cast<int>(widths[i]), row[i])
                    : absl::StrFormat("  %*s", static_cast<int>(widths[i]), row[i]);
    }
    out += "\n";
  }
  out += "  expected: ";
  std::vector<std::string> expected;
  for (RequestKind kind : kAllRequestKinds) {
    if (run.options.load.mix.weight(kind) == 0) continue;
    expected.push_back(absl::StrCat(RequestKindName(kind), " ", ExpectedEndingsText(kind)));
  }
  out += absl::StrJoin(expected, "; ") + "\n";
  std::vector<std::string> reasons;
  for (RequestKind kind : kAllRequestKinds) {
    const KindTally& t = run.tally.kind(kind);
    if (t.ok_by_finish_reason.empty()) continue;
    std::vector<std::string> parts;
    for (const auto& [reason, count] : t.ok_by_finish_reason) {
      parts.push_back(absl::StrCat(reason, "=", count));
    }
    reasons.push_back(absl::StrCat(RequestKindName(kind), " ", absl::StrJoin(parts, " ")));
  }
  if (!reasons.empty()) out += "  OK finish reasons: " + absl::StrJoin(reasons, "; ") + "\n";
}

std::string RangeText(const std::optional<Range>& range, bool bytes) {
  if (!range.has_value()) return "n/a";
  const auto f = [&](int64_t v) { return bytes ? Mb(v) : absl::StrCat(v); };
  return absl::StrCat("start ", f(range->start), ", end ", f(range->end), ", max ", f(range->max));
}

void AppendServer(const SoakRun& run, const ResourceStats& resources, std::string& out) {
  if (run.options.server_pid > 0) {
    out += absl::StrCat("server process (pid ", run.options.server_pid, ")\n");
    out += absl::StrCat("  RSS      ", RangeText(resources.rss_bytes, true), "\n");
    if (resources.rss_slope_mb_per_minute.has_value()) {
      out += absl::StrFormat(
          "  RSS slope %+.3f MB/min (least squares over the second half of the load, %d samples)\n",
          *resources.rss_slope_mb_per_minute, resources.slope_samples);
    } else {
      out += absl::StrFormat("  RSS slope n/a (%d samples in the second half of the load)\n",
                             resources.slope_samples);
    }
    out += absl::StrCat("  threads  ", RangeText(resources.threads, false), "\n");
    out += absl::StrCat("  open fds ", RangeText(resources.open_fds, false), "\n");
    if (!run.process_error.empty()) {
      out += absl::StrCat("  first /proc read error: ", run.process_error, "\n");
    }
  }
  if (!run.options.metrics_url.empty()) {
    out += absl::StrCat("server metrics (", run.options.metrics_url, ")\n");
    if (run.metrics_before.has_value() && run.metrics_after.has_value()) {
      const ServerMetrics& b = *run.metrics_before;
      const ServerMetrics& a = *run.metrics_after;
      out += absl::StrFormat(
          "  during the run: %.0f GenerateStream RPCs finished (the clients saw %d end), %.0f "
          "tokens generated, %.0f slow-reader cancellations, %.0f preemptions\n",
          a.stream_rpcs - b.stream_rpcs, run.tally.ended() + run.abandoned,
          a.generated_tokens - b.generated_tokens,
          a.slow_reader_cancellations - b.slow_reader_cancellations, a.preemptions - b.preemptions);
      out += absl::StrFormat(
          "  after the drain: kv_cache_blocks_used %.0f of %.0f, requests_waiting %.0f, "
          "requests_running %.0f\n",
          a.kv_blocks_used, a.kv_blocks_total, a.requests_waiting, a.requests_running);
    }
    if (run.failed_scrapes > 0 || !run.metrics_error.empty()) {
      out += absl::StrCat("  ", run.failed_scrapes,
                          " failed scrapes; first error: ", run.metrics_error, "\n");
    }
  }
}

}  // namespace

std::string FormatReport(const SoakRun& run, const ResourceStats& resources,
                         const std::vector<Check>& checks) {
  const SoakOptions& o = run.options;
  std::string out = absl::StrFormat(
      "== ember_soak: %d clients, %.0f s load against %s, mix %s, seed %d\n", o.load.clients,
      absl::ToDoubleSeconds(o.duration), o.address, o.load.mix.ToString(), o.load.seed);
  if (!run.ended_early.empty()) {
    out +=
        absl::StrFormat("load ended early, after %.1f s: %s\n", run.load_seconds, run.ended_early);
  }
  out += "requests by kind and final status\n";
  AppendRequestTable(run, out);
  const int64_t ended = run.tally.ended();
  out += absl::StrFormat(
      "throughput: %d streams ended in %.1f s = %.1f req/s; %d tokens received = %.1f tokens/s\n",
      ended, run.load_seconds, PerSecond(static_cast<double>(ended), run.load_seconds), run.tokens,
      PerSecond(static_cast<double>(run.tokens), run.load_seconds));
  out += absl::StrFormat(
      "drain: the last stream ended %.2f s after the load; %d still open at the %.0f s timeout\n",
      run.stream_drain_seconds, run.abandoned, absl::ToDoubleSeconds(o.drain_timeout));
  AppendServer(run, resources, out);
  const std::vector<StreamOutcome>& examples = run.tally.unexpected_examples();
  if (!examples.empty()) {
    out += absl::StrCat("unexpected endings (first ", examples.size(), "):\n");
    for (const StreamOutcome& e : examples) {
      out += absl::StrFormat("  %s [%s] %s%s after %.3f s, %d tokens: %s\n", e.request_id,
                             RequestKindName(e.kind), absl::StatusCodeToString(e.code),
                             e.code == absl::StatusCode::kOk
                                 ? absl::StrCat(" (finish ", FinishReasonName(e.finish_reason), ")")
                                 : "",
                             absl::ToDoubleSeconds(e.elapsed), e.tokens, e.message);
    }
  }
  out += "checks\n";
  for (const Check& c : checks) {
    const char* verdict = c.verdict == Verdict::kPass   ? "PASS"
                          : c.verdict == Verdict::kFail ? "FAIL"
                                                        : "SKIP";
    out += absl::StrFormat("  %s  %s (%s)\n", verdict, c.name, c.detail);
  }
  out += AllPassed(checks) ? "RESULT: PASS\n" : "RESULT: FAIL\n";
  return out;
}

std::string FormatCsv(const std::vector<MonitorSample>& samples) {
  std::string out =
      "t_seconds,phase,rss_mb,threads,open_fds,kv_blocks_used,requests_waiting,requests_running,"
      "streams_started,streams_ended,streams_in_flight,tokens_received\n";
  for (const MonitorSample& s : samples) {
    std::vector<std::string> fields = {absl::StrFormat("%.3f", s.t_seconds),
                                       SoakPhaseName(s.phase)};
    if (s.process.has_value()) {
      fields.push_back(absl::StrFormat("%.3f", static_cast<double>(s.process->rss_bytes) / 1e6));
      fields.push_back(absl::StrCat(s.process->threads));
      fields.push_back(absl::StrCat(s.process->open_fds));
    } else {
      fields.insert(fields.end(), 3, "");
    }
    if (s.metrics.has_value()) {
      fields.push_back(absl::StrCat(s.metrics->kv_blocks_used));
      fields.push_back(absl::StrCat(s.metrics->requests_waiting));
      fields.push_back(absl::StrCat(s.metrics->requests_running));
    } else {
      fields.insert(fields.end(), 3, "");
    }
    fields.push_back(absl::StrCat(s.load.started));
    fields.push_back(absl::StrCat(s.load.ended));
    fields.push_back(absl::StrCat(s.load.in_flight()));
    fields.push_back(absl::StrCat(s.load.tokens));
    out += absl::StrJoin(fields, ",") + "\n";
  }
  return out;
}

}  // namespace ember::soak
