// The verdicts of a run, the report that prints them and the CSV of its samples.
#include "tools/soak/soak_checks.h"

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/soak/soak_report.h"

namespace ember::soak {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

StreamOutcome Ended(RequestKind kind, absl::StatusCode code) {
  StreamOutcome o;
  o.kind = kind;
  o.code = code;
  o.request_id = "soak-0-1";
  o.tokens = 4;
  if (code == absl::StatusCode::kOk) o.finish_reason = ember::v1::FINISH_REASON_LENGTH;
  return o;
}

// A run that passes every check: drained gauges, live SERVING server.
SoakRun HealthyRun() {
  SoakRun run;
  run.options.server_pid = 1234;
  run.options.metrics_url = "127.0.0.1:9090";
  run.tally.Add(Ended(RequestKind::kNormal, absl::StatusCode::kOk));
  run.tally.Add(Ended(RequestKind::kCancel, absl::StatusCode::kCancelled));
  run.tally.Add(Ended(RequestKind::kInvalid, absl::StatusCode::kInvalidArgument));
  run.started = 3;
  run.tokens = 12;
  run.load_seconds = 2;
  run.metrics_before = ServerMetrics{};
  run.metrics_after = ServerMetrics{};
  run.metrics_after->kv_blocks_total = 1024;
  run.server_alive_at_end = true;
  run.health_after = "SERVING";
  return run;
}

const Check& Find(const std::vector<Check>& checks, const std::string& name) {
  for (const Check& c : checks) {
    if (c.name == name) return c;
  }
  static const Check missing{"missing", Verdict::kFail, ""};
  ADD_FAILURE() << "no check named " << name;
  return missing;
}

TEST(SoakChecksTest, AHealthyRunPasses) {
  const SoakRun run = HealthyRun();
  const std::vector<Check> checks = EvaluateChecks(run, ResourceStats{});
  EXPECT_TRUE(AllPassed(checks));
  EXPECT_EQ(Find(checks, "RSS slope within limit").verdict, Verdict::kSkipped);
  EXPECT_EQ(Find(checks, "KV blocks in use back to 0").verdict, Verdict::kPass);
}

TEST(SoakChecksTest, EachFaultFailsItsCheck) {
  {
    SoakRun run = HealthyRun();
    run.started = 4;  // one stream never ended
    EXPECT_EQ(Find(EvaluateChecks(run, {}), "every stream ended with a status").verdict,
              Verdict::kFail);
  }
  {
    SoakRun run = HealthyRun();
    run.abandoned = 1;
    run.started = 4;
    EXPECT_EQ(Find(EvaluateChecks(run, {}), "every stream ended with a status").verdict,
              Verdict::kFail);
  }
  {
    SoakRun run = HealthyRun();
    run.tally.Add(Ended(RequestKind::kNormal, absl::StatusCode::kInternal));
    run.started = 4;
    const std::vector<Check> checks = EvaluateChecks(run, {});
    EXPECT_EQ(Find(checks, "no unexpected status").verdict, Verdict::kFail);
    EXPECT_FALSE(AllPassed(checks));
  }
  {
    SoakRun run = HealthyRun();
    run.metrics_after->kv_blocks_used = 3;
    run.metrics_after->requests_waiting = 1;
    run.metrics_after->requests_running = 2;
    const std::vector<Check> checks = EvaluateChecks(run, {});
    EXPECT_EQ(Find(checks, "KV blocks in use back to 0").verdict, Verdict::kFail);
    EXPECT_THAT(Find(checks, "KV blocks in use back to 0").detail, HasSubstr("= 3"));
    EXPECT_EQ(Find(checks, "waiting queue back to 0").verdict, Verdict::kFail);
    EXPECT_EQ(Find(checks, "running requests back to 0").verdict, Verdict::kFail);
  }
  {
    SoakRun run = HealthyRun();
    run.metrics_after.reset();  // the endpoint went away
    run.metrics_error = "UNAVAILABLE: connection refused";
    EXPECT_EQ(Find(EvaluateChecks(run, {}), "KV blocks in use back to 0").verdict, Verdict::kFail);
  }
  {
    SoakRun run = HealthyRun();
    run.server_alive_at_end = false;
    run.process_error = "NOT_FOUND: /proc/1234: No such file or directory";
    run.health_after = "UNAVAILABLE: failed to connect";
    const std::vector<Check> checks = EvaluateChecks(run, {});
    EXPECT_EQ(Find(checks, "server process alive").verdict, Verdict::kFail);
    EXPECT_EQ(Find(checks, "server SERVING after the run").verdict, Verdict::kFail);
  }
  {
    SoakRun run = HealthyRun();
    run.tally = SoakTally();
    run.tally.Add(Ended(RequestKind::kInvalid, absl::StatusCode::kInvalidArgument));
    run.started = 1;
    EXPECT_EQ(Find(EvaluateChecks(run, {}), "requests were served").verdict, Verdict::kFail);
  }
}

TEST(SoakChecksTest, ChecksWithoutTheirSourceAreSkippedNotFailed) {
  SoakRun run = HealthyRun();
  run.options.metrics_url.clear();
  run.options.server_pid = 0;
  run.metrics_after.reset();
  run.server_alive_at_end = false;
  const std::vector<Check> checks = EvaluateChecks(run, {});
  EXPECT_TRUE(AllPassed(checks));
  EXPECT_EQ(Find(checks, "KV blocks in use back to 0").verdict, Verdict::kSkipped);
  EXPECT_EQ(Find(checks, "server process alive").verdict, Verdict::kSkipped);
}

TEST(SoakChecksTest, RssSlopeLimit) {
  SoakRun run = HealthyRun();
  run.options.max_rss_slope_mb_per_minute = 1.0;
  ResourceStats resources;
  EXPECT_EQ(Find(EvaluateChecks(run, resources), "RSS slope within limit").verdict,
            Verdict::kFail);  // no slope to judge
  resources.rss_slope_mb_per_minute = 0.5;
  EXPECT_EQ(Find(EvaluateChecks(run, resources), "RSS slope within limit").verdict, Verdict::kPass);
  resources.rss_slope_mb_per_minute = 1.5;
  EXPECT_EQ(Find(EvaluateChecks(run, resources), "RSS slope within limit").verdict, Verdict::kFail);
}

TEST(SoakReportTest, ReportShowsCountsFiguresAndVerdict) {
  SoakRun run = HealthyRun();
  ResourceStats resources;
  resources.rss_bytes = Range{50'000'000, 52'000'000, 60'000'000};
  resources.rss_slope_mb_per_minute = 0.25;
  resources.slope_samples = 30;
  resources.threads = Range{10, 11, 14};
  resources.open_fds = Range{12, 12, 20};
  std::string report = FormatReport(run, resources, EvaluateChecks(run, resources));
  EXPECT_THAT(report, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(report, HasSubstr("1.5 req/s"));
  EXPECT_THAT(report, HasSubstr("6.0 tokens/s"));
  EXPECT_THAT(report, HasSubstr("RSS      start 50.0 MB, end 52.0 MB, max 60.0 MB"));
  EXPECT_THAT(report, HasSubstr("+0.250 MB/min"));
  EXPECT_THAT(report, HasSubstr("threads  start 10, end 11, max 14"));
  EXPECT_THAT(report, HasSubstr("normal length=1"));
  EXPECT_THAT(report, Not(HasSubstr("unexpected endings")));
  EXPECT_THAT(report, HasSubstr("RESULT: PASS"));

  run.tally.Add(Ended(RequestKind::kCancel, absl::StatusCode::kUnavailable));
  run.started = 4;
  report = FormatReport(run, resources, EvaluateChecks(run, resources));
  EXPECT_THAT(report, HasSubstr("unexpected endings (first 1)"));
  EXPECT_THAT(report, HasSubstr("soak-0-1 [cancel] UNAVAILABLE"));
  EXPECT_THAT(report, HasSubstr("FAIL  no unexpected status"));
  EXPECT_THAT(report, HasSubstr("RESULT: FAIL"));
}

TEST(SoakReportTest, CsvHasOneRowPerSampleAndEmptyFieldsForWhatWasNotSampled) {
  MonitorSample full;
  full.t_seconds = 1;
  full.phase = SoakPhase::kLoad;
  full.process = ProcessSample{2'500'000, 7, 9};
  full.metrics = ServerMetrics{};
  full.metrics->kv_blocks_used = 4;
  full.load.started = 5;
  full.load.ended = 3;
  full.load.tokens = 100;
  MonitorSample bare;
  bare.t_seconds = 2;
  bare.phase = SoakPhase::kDrain;
  const std::vector<std::string> lines =
      absl::StrSplit(FormatCsv({full, bare}), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "t_seconds,phase,rss_mb,threads,open_fds,kv_blocks_used,requests_waiting,"
            "requests_running,streams_started,streams_ended,streams_in_flight,tokens_received");
  EXPECT_EQ(lines[1], "1.000,load,2.500,7,9,4,0,0,5,3,2,100");
  EXPECT_EQ(lines[2], "2.000,drain,,,,,,,0,0,0,0");
}

}  // namespace
}  // namespace ember::soak
