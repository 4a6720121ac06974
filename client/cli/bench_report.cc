#include "client/cli/bench_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/latency_stats.h"

namespace ember::client {
namespace {

// Events per second over `wall`; 0 for an empty interval rather than inf (JSON has no inf).
double Rate(int64_t events, absl::Duration wall) {
  const double seconds = absl::ToDoubleSeconds(wall);
  return seconds > 0 ? static_cast<double>(events) / seconds : 0.0;
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.9g", value);
}

std::string SummaryJson(const LatencySummary& s) {
  const auto stat = [&](double v) { return s.count == 0 ? std::string("null") : JsonNumber(v); };
  return absl::StrCat("{\"count\":", s.count, ",\"mean\":", stat(s.mean), ",\"min\":", stat(s.min),
                      ",\"p50\":", stat(s.p50), ",\"p90\":", stat(s.p90), ",\"p99\":", stat(s.p99),
                      ",\"max\":", stat(s.max), "}");
}

std::string SummaryText(const LatencySummary& s) {
  if (s.count == 0) return "n/a (no samples)";
  return absl::StrFormat(
      "p50 %.2f ms  p99 %.2f ms  (mean %.2f, min %.2f, p90 %.2f, max %.2f; n=%d)", s.p50 * 1e3,
      s.p99 * 1e3, s.mean * 1e3, s.min * 1e3, s.p90 * 1e3, s.max * 1e3, s.count);
}

}  // namespace

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string FormatBenchText(const BenchOptions& options, const BenchResult& result) {
  std::string out;
  absl::StrAppendFormat(&out, "requests             %d ok, %d failed (concurrency %d) in %.3f s\n",
                        result.requests_ok, result.requests_failed, options.concurrency,
                        absl::ToDoubleSeconds(result.wall_time));
  absl::StrAppendFormat(
      &out, "throughput           %.2f requests/s, %.1f generated tokens/s (%d tokens)\n",
      Rate(result.requests_ok, result.wall_time), Rate(result.generated_tokens, result.wall_time),
      result.generated_tokens);
  absl::StrAppend(&out, "time to first token  ", SummaryText(Summarize(result.ttft_seconds)), "\n");
  absl::StrAppend(&out, "inter-token latency  ", SummaryText(Summarize(result.itl_seconds)), "\n");
  for (const auto& [code, count] : result.errors) {
    const auto first = result.first_error.find(code);
    absl::StrAppendFormat(&out, "errors               %s x%d (first: %s)\n",
                          absl::StatusCodeToString(code), count,
                          first == result.first_error.end() ? "" : first->second);
  }
  return out;
}

std::string FormatBenchJson(const BenchOptions& options, const BenchResult& result) {
  std::vector<std::string> errors;
  for (const auto& [code, count] : result.errors) {
    const auto first = result.first_error.find(code);
    errors.push_back(absl::StrCat(
        JsonQuote(absl::StatusCodeToString(code)), ":{\"count\":", count, ",\"first_message\":",
        JsonQuote(first == result.first_error.end() ? "" : first->second), "}"));
  }
  return absl::StrCat(
      "{\"requests\":", options.requests, ",\"concurrency\":", options.concurrency,
      ",\"requests_ok\":", result.requests_ok, ",\"requests_failed\":", result.requests_failed,
      ",\"wall_seconds\":", JsonNumber(absl::ToDoubleSeconds(result.wall_time)),
      ",\"requests_per_second\":", JsonNumber(Rate(result.requests_ok, result.wall_time)),
      ",\"generated_tokens\":", result.generated_tokens,
      ",\"tokens_per_second\":", JsonNumber(Rate(result.generated_tokens, result.wall_time)),
      ",\"ttft_seconds\":", SummaryJson(Summarize(result.ttft_seconds)),
      ",\"itl_seconds\":", SummaryJson(Summarize(result.itl_seconds)), ",\"errors\":{",
      absl::StrJoin(errors, ","), "}}\n");
}

}  // namespace ember::client
