// Reading samples from the Prometheus text format, and picking ember's figures out of a page.
#include "tools/soak/prometheus_text.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/soak/metrics_scrape.h"

namespace ember::soak {
namespace {

using ::testing::HasSubstr;

// The shape prometheus-cpp serves (server/metrics.cc), trimmed.
constexpr char kPage[] = R"(# HELP ember_rpcs_total Finished RPCs by method and gRPC status code.
# TYPE ember_rpcs_total counter
ember_rpcs_total{code="OK",method="GenerateStream"} 40
ember_rpcs_total{code="CANCELLED",method="GenerateStream"} 7
ember_rpcs_total{code="OK",method="Generate"} 3
# TYPE ember_generated_tokens_total counter
ember_generated_tokens_total 1234
# TYPE ember_requests_running gauge
ember_requests_running 2
ember_requests_waiting 1
ember_kv_cache_blocks_used 12
ember_kv_cache_blocks_total 1024
ember_slow_reader_cancellations_total 0
ember_preemptions_total 5
ember_step_duration_seconds_bucket{le="+Inf"} 99
)";

TEST(PrometheusTextTest, ParsesNamesLabelsAndValues) {
  const std::vector<PrometheusSample> samples = ParsePrometheusText(kPage);
  ASSERT_EQ(samples.size(), 11u);
  EXPECT_EQ(samples[0].name, "ember_rpcs_total");
  EXPECT_EQ(samples[0].labels.at("code"), "OK");
  EXPECT_EQ(samples[0].labels.at("method"), "GenerateStream");
  EXPECT_EQ(samples[0].value, 40);
  EXPECT_EQ(samples.back().labels.at("le"), "+Inf");
}

TEST(PrometheusTextTest, HandlesEscapesTimestampsSpecialValuesAndJunk) {
  const std::vector<PrometheusSample> samples = ParsePrometheusText(
      "a{x=\"q\\\"uote\\\\d\\n\",y=\"\"} 1.5 1700000000000\n"
      "b +Inf\n"
      "c NaN\n"
      "d{} -2e3\n"
      "broken{x=\"unterminated 1\n"
      "noval\n"
      "e 1 2 3\n"
      "   \n");
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].labels.at("x"), "q\"uote\\d\n");
  EXPECT_EQ(samples[0].labels.at("y"), "");
  EXPECT_EQ(samples[0].value, 1.5);
  EXPECT_TRUE(std::isinf(samples[1].value));
  EXPECT_TRUE(std::isnan(samples[2].value));
  EXPECT_EQ(samples[3].name, "d");
  EXPECT_EQ(samples[3].value, -2000);
}

TEST(PrometheusTextTest, SumsSamplesMatchingLabels) {
  const std::vector<PrometheusSample> samples = ParsePrometheusText(kPage);
  EXPECT_EQ(SumSamples(samples, "ember_rpcs_total"), 50);
  EXPECT_EQ(SumSamples(samples, "ember_rpcs_total", {{"method", "GenerateStream"}}), 47);
  EXPECT_EQ(SumSamples(samples, "ember_rpcs_total", {{"method", "GenerateStream"}, {"code", "OK"}}),
            40);
  EXPECT_FALSE(SumSamples(samples, "ember_rpcs_total", {{"method", "Tokenize"}}).has_value());
  EXPECT_FALSE(SumSamples(samples, "ember_rpcs").has_value());  // names match whole
}

TEST(MetricsScrapeTest, PicksEmbersFiguresOutOfAPage) {
  absl::StatusOr<ServerMetrics> m = ServerMetricsFromText(kPage);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->kv_blocks_used, 12);
  EXPECT_EQ(m->kv_blocks_total, 1024);
  EXPECT_EQ(m->requests_waiting, 1);
  EXPECT_EQ(m->requests_running, 2);
  EXPECT_EQ(m->generated_tokens, 1234);
  EXPECT_EQ(m->stream_rpcs, 47);
  EXPECT_EQ(m->slow_reader_cancellations, 0);
  EXPECT_EQ(m->preemptions, 5);
}

TEST(MetricsScrapeTest, AMissingGaugeIsNamed) {
  absl::StatusOr<ServerMetrics> m = ServerMetricsFromText("ember_requests_running 0\n");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr("ember_kv_cache_blocks_used"));
}

TEST(MetricsScrapeTest, ParsesMetricsUrls) {
  absl::StatusOr<MetricsEndpoint> e = ParseMetricsUrl("127.0.0.1:9090");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 9090);
  EXPECT_EQ(e->path, "/metrics");
  e = ParseMetricsUrl("http://ember:9091/other/path");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "ember");
  EXPECT_EQ(e->port, 9091);
  EXPECT_EQ(e->path, "/other/path");
  e = ParseMetricsUrl("[::1]:9090");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "::1");
  for (const char* bad :
       {"", "host", ":9090", "host:", "host:0", "host:70000", "host:x", "[::1", "[::1]9090"}) {
    EXPECT_EQ(ParseMetricsUrl(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ember::soak
