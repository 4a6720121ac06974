#include "tools/soak/metrics_scrape.h"

#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tools/soak/http_get.h"
#include "tools/soak/prometheus_text.h"

namespace ember::soak {

absl::StatusOr<MetricsEndpoint> ParseMetricsUrl(absl::string_view url) {
  const auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics URL \"", url, "\": ", why, " (expected host:port[/path])"));
  };
  absl::string_view rest = url;
  absl::ConsumePrefix(&rest, "http://");
  MetricsEndpoint endpoint;
  const size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    endpoint.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (absl::ConsumePrefix(&rest, "[")) {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return invalid("unclosed '['");
    endpoint.host = std::string(rest.substr(0, close));
    rest.remove_prefix(close + 1);
    if (!absl::ConsumePrefix(&rest, ":")) return invalid("missing port");
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return invalid("missing port");
    endpoint.host = std::string(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (endpoint.host.empty()) return invalid("missing host");
  if (!absl::SimpleAtoi(rest, &endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) {
    return invalid("port must be in [1, 65535]");
  }
  return endpoint;
}

absl::StatusOr<ServerMetrics> ServerMetricsFromText(absl::string_view text) {
  const std::vector<PrometheusSample> samples = ParsePrometheusText(text);
  ServerMetrics m;
  const struct {
    const char* name;
    double* out;
  } gauges[] = {
      {"ember_kv_cache_blocks_used", &m.kv_blocks_used},
      {"ember_kv_cache_blocks_total", &m.kv_blocks_total},
      {"ember_requests_waiting", &m.requests_waiting},
      {"ember_requests_running", &m.requests_running},
  };
  for (const auto& gauge : gauges) {
    const std::optional<double> value = SumSamples(samples, gauge.name);
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics: no ", gauge.name, " series (is this ember's /metrics?)"));
    }
    *gauge.out = *value;
  }
  m.generated_tokens = SumSamples(samples, "ember_generated_tokens_total").value_or(0);
  m.stream_rpcs =
      SumSamples(samples, "ember_rpcs_total", {{"method", "GenerateStream"}}).value_or(0);
  m.slow_reader_cancellations =
      SumSamples(samples, "ember_slow_reader_cancellations_total").value_or(0);
  m.preemptions = SumSamples(samples, "ember_preemptions_total").value_or(0);
  return m;
}

absl::StatusOr<ServerMetrics> ScrapeServerMetrics(const MetricsEndpoint& endpoint,
                                                  absl::Duration timeout) {
  absl::StatusOr<std::string> text = HttpGet(endpoint.host, endpoint.port, endpoint.path, timeout);
  if (!text.ok()) return text.status();
  return ServerMetricsFromText(*text);
}

}  // namespace ember::soak
