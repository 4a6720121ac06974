// The server figures a soak watches, scraped from ember's Prometheus endpoint (names as defined in
// server/metrics.cc).
#ifndef EMBER_TOOLS_SOAK_METRICS_SCRAPE_H_
#define EMBER_TOOLS_SOAK_METRICS_SCRAPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ember::soak {

struct MetricsEndpoint {
  std::string host;
  int port = 0;
  std::string path = "/metrics";
};

// "host:port", "host:port/path", optionally prefixed with "http://"; IPv6 hosts in brackets
// ("[::1]:9090"). The path defaults to /metrics. INVALID_ARGUMENT naming the URL otherwise.
absl::StatusOr<MetricsEndpoint> ParseMetricsUrl(absl::string_view url);

struct ServerMetrics {
  // Gauges; required in every scrape.
  double kv_blocks_used = 0;    // ember_kv_cache_blocks_used
  double kv_blocks_total = 0;   // ember_kv_cache_blocks_total
  double requests_waiting = 0;  // ember_requests_waiting
  double requests_running = 0;  // ember_requests_running
  // Counters since the server started; 0 while a labelled family has no series yet.
  double generated_tokens = 0;           // ember_generated_tokens_total
  double stream_rpcs = 0;                // ember_rpcs_total{method="GenerateStream"}, all codes
  double slow_reader_cancellations = 0;  // ember_slow_reader_cancellations_total
  double preemptions = 0;                // ember_preemptions_total
};

// Picks the figures out of a /metrics page. INVALID_ARGUMENT naming the first missing gauge (the
// endpoint is not ember's, or its metric names changed).
absl::StatusOr<ServerMetrics> ServerMetricsFromText(absl::string_view text);

// Fetches and parses one scrape within `timeout`.
absl::StatusOr<ServerMetrics> ScrapeServerMetrics(const MetricsEndpoint& endpoint,
                                                  absl::Duration timeout);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_METRICS_SCRAPE_H_
