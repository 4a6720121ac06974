// ember_soak: runs N concurrent streaming clients against an ember server for a given time with a
// mix of normal, cancelled, short-deadline, slow-reading and invalid requests; samples the server
// every second; then checks that every stream ended with an expected status and that the
// server's KV cache and queues drained back to zero. Exit status 0 when every check passed, 1
// when one failed, 2 for a usage or set-up error.
//
// This file binds flags into SoakOptions and runs the phases; the parts live beside it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/credential_files.h"
#include "client/ember_client.h"
#include "tools/soak/load_generator.h"
#include "tools/soak/resource_stats.h"
#include "tools/soak/server_monitor.h"
#include "tools/soak/soak_checks.h"
#include "tools/soak/soak_options.h"
#include "tools/soak/soak_report.h"
#include "tools/soak/soak_run.h"

ABSL_FLAG(std::string, address, "localhost:50051", "The server's gRPC address, host:port");
ABSL_FLAG(int32_t, clients, 8, "Concurrent streaming clients, one request in flight each");
ABSL_FLAG(double, duration_seconds, 60, "How long clients keep starting requests");
ABSL_FLAG(std::string, mix, std::string(ember::soak::kDefaultRequestMix),
          "Relative weights of the request kinds: normal (read to the end), cancel (cancel after "
          "k tokens), deadline (short deadline), slow (sleep between reads), invalid (refused "
          "with INVALID_ARGUMENT); kinds left out are not sent");
ABSL_FLAG(int32_t, max_new_tokens, 64, "Normal and slow requests ask for a uniform 1..this tokens");
ABSL_FLAG(int32_t, cancel_after_tokens, 16,
          "Cancelled requests cancel after a uniform 1..this tokens");
ABSL_FLAG(int32_t, deadline_ms_min, 5, "Short deadlines are uniform in [min, max] milliseconds");
ABSL_FLAG(int32_t, deadline_ms_max, 300, "See --deadline_ms_min");
ABSL_FLAG(int32_t, slow_read_delay_ms, 20,
          "Slow readers sleep a uniform [this/2, this] ms after every message");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the request draws (client i uses seed + i)");
ABSL_FLAG(int32_t, server_pid, 0,
          "The server's pid: sample its RSS, threads and open fds from /proc; 0: do not");
ABSL_FLAG(std::string, metrics_url, "",
          "The server's Prometheus endpoint, host:port[/path]: sample KV blocks in use, waiting "
          "and running requests, and check they return to 0; empty: do not");
ABSL_FLAG(std::string, csv, "", "Write the per-second samples to this CSV file");
ABSL_FLAG(double, drain_timeout_seconds, 30,
          "After the load: time for in-flight streams to end and the server's gauges to reach 0");
ABSL_FLAG(double, max_rss_slope_mb_per_min, 0,
          "Fail when the server's RSS grows faster than this over the second half of the load; "
          "0: report only");
ABSL_FLAG(double, progress_seconds, 10, "A progress line on stderr this often; 0: none");
ABSL_FLAG(bool, tls, false, "Connect with TLS (implied by --tls_ca, --tls_cert and --tls_key)");
ABSL_FLAG(std::string, tls_ca, "", "PEM root certificates that verify the server");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate chain for mutual TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "", "Name the server certificate must match");
ABSL_FLAG(std::string, token_file, "",
          "File holding the bearer token; empty: $EMBER_TOKEN if set, else none");

namespace ember::soak {
namespace {

constexpr int kExitChecksFailed = 1;
constexpr int kExitUsage = 2;
constexpr absl::Duration kCallTimeout = absl::Seconds(5);
constexpr absl::Duration kGaugePollPeriod = absl::Milliseconds(100);

absl::StatusOr<SoakOptions> OptionsFromFlags() {
  SoakOptions o;
  o.address = absl::GetFlag(FLAGS_address);
  o.load.clients = absl::GetFlag(FLAGS_clients);
  o.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  absl::StatusOr<RequestMix> mix = RequestMix::Parse(absl::GetFlag(FLAGS_mix));
  if (!mix.ok()) return absl::InvalidArgumentError(absl::StrCat("--mix: ", mix.status().message()));
  o.load.mix = *mix;
  o.load.shape.max_new_tokens = absl::GetFlag(FLAGS_max_new_tokens);
  o.load.shape.cancel_after_tokens_max = absl::GetFlag(FLAGS_cancel_after_tokens);
  o.load.shape.deadline_min_ms = absl::GetFlag(FLAGS_deadline_ms_min);
  o.load.shape.deadline_max_ms = absl::GetFlag(FLAGS_deadline_ms_max);
  o.load.shape.slow_read_delay_ms = absl::GetFlag(FLAGS_slow_read_delay_ms);
  o.load.seed = absl::GetFlag(FLAGS_seed);
  o.server_pid = absl::GetFlag(FLAGS_server_pid);
  o.metrics_url = absl::GetFlag(FLAGS_metrics_url);
  o.csv_path = absl::GetFlag(FLAGS_csv);
  o.drain_timeout = absl::Seconds(absl::GetFlag(FLAGS_drain_timeout_seconds));
  o.max_rss_slope_mb_per_minute = absl::GetFlag(FLAGS_max_rss_slope_mb_per_min);
  o.progress_period = absl::Seconds(absl::GetFlag(FLAGS_progress_seconds));

  client::ClientOptions& c = o.client;
  const std::string ca = absl::GetFlag(FLAGS_tls_ca);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  c.tls = absl::GetFlag(FLAGS_tls) || !ca.empty() || !cert.empty() || !key.empty();
  if (!ca.empty()) {
    absl::StatusOr<std::string> pem = client::ReadCredentialFile("tls_ca", ca);
    if (!pem.ok()) return pem.status();
    c.tls_root_certs_pem = *pem;
  }
  if (!cert.empty()) {
    absl::StatusOr<std::string> pem = client::ReadCredentialFile("tls_cert", cert);
    if (!pem.ok()) return pem.status();
    c.tls_client_cert_pem = *pem;
  }
  if (!key.empty()) {
    absl::StatusOr<std::string> pem = client::ReadCredentialFile("tls_key", key);
    if (!pem.ok()) return pem.status();
    c.tls_client_key_pem = *pem;
  }
  c.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  // The token comes from a file or the environment, never a flag value: command lines are visible
  // to every user of the machine.
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  if (!token_file.empty()) {
    absl::StatusOr<std::string> token = client::ReadCredentialFile("token_file", token_file);
    if (!token.ok()) return token.status();
    c.bearer_token = std::string(absl::StripAsciiWhitespace(*token));
  } else if (const char* env = std::getenv("EMBER_TOKEN"); env != nullptr) {
    c.bearer_token = std::string(absl::StripAsciiWhitespace(env));
  }
  if (absl::Status valid = ValidateSoakOptions(o); !valid.ok()) return valid;
  return o;
}

client::CallOptions WithTimeout() {
  client::CallOptions call;
  call.deadline = kCallTimeout;
  return call;
}

std::string HealthText(const client::EmberClient& client) {
  absl::StatusOr<client::ServingStatus> health = client.Health("", WithTimeout());
  return health.ok() ? client::ServingStatusName(*health) : health.status().ToString();
}

// Polls the metrics endpoint until the KV cache and both queues are at 0 or `deadline` passes;
// returns the last successful scrape (the one the checks judge). Engine gauges update at the next
// engine step after the last stream ends, so the first scrape may still show it.
std::optional<ServerMetrics> AwaitDrainedGauges(const MetricsEndpoint& endpoint,
                                                absl::Time deadline, std::string& error) {
  std::optional<ServerMetrics> last;
  for (;;) {
    absl::StatusOr<ServerMetrics> m = ScrapeServerMetrics(endpoint, kCallTimeout);
    if (m.ok()) {
      last = *m;
      if (m->kv_blocks_used == 0 && m->requests_waiting == 0 && m->requests_running == 0) break;
    } else if (error.empty()) {
      error = m.status().ToString();
    }
    if (absl::Now() + kGaugePollPeriod > deadline) break;
    absl::SleepFor(kGaugePollPeriod);
  }
  return last;
}

void PrintProgress(absl::Time origin, const LoadProgress& p,
                   const std::optional<MonitorSample>& s) {
  std::string server;
  if (s.has_value() && s->process.has_value()) {
    absl::StrAppendFormat(&server, " rss=%.1fMB threads=%d fds=%d",
                          static_cast<double>(s->process->rss_bytes) / 1e6, s->process->threads,
                          s->process->open_fds);
  }
  if (s.has_value() && s->metrics.has_value()) {
    absl::StrAppendFormat(&server, " kv=%.0f waiting=%.0f running=%.0f", s->metrics->kv_blocks_used,
                          s->metrics->requests_waiting, s->metrics->requests_running);
  }
  std::fprintf(stderr, "ember_soak: t=%.0fs started=%lld ended=%lld tokens=%lld%s\n",
               absl::ToDoubleSeconds(absl::Now() - origin), static_cast<long long>(p.started),
               static_cast<long long>(p.ended), static_cast<long long>(p.tokens), server.c_str());
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "soak-tests an ember server: N streaming clients for a given time with a mix of request "
      "kinds, server RSS/threads/fds and KV/queue gauges sampled every second, then drain "
      "checks.\n  ember_soak --address=HOST:PORT --clients=8 --duration_seconds=60 "
      "[--server_pid=PID] [--metrics_url=HOST:PORT] [--csv=FILE]");
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "tools/soak/");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<SoakOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "ember_soak: %s\n", std::string(options.status().message()).c_str());
    return kExitUsage;
  }
  SoakRun run;
  run.options = *options;
  const SoakOptions& o = run.options;

  absl::StatusOr<std::unique_ptr<client::EmberClient>> created =
      client::EmberClient::Create(o.address, o.client);
  if (!created.ok()) {
    std::fprintf(stderr, "ember_soak: %s\n", created.status().ToString().c_str());
    return kExitUsage;
  }
  const client::EmberClient& client = **created;
  if (const std::string health = HealthText(client); health != "SERVING") {
    std::fprintf(stderr, "ember_soak: %s is not SERVING (health: %s)\n", o.address.c_str(),
                 health.c_str());
    return kExitUsage;
  }
  // The model's limits shape the requests, so none is refused for length. A failure here (most
  // often a missing or wrong token) would fail every request: stop before the load.
  absl::StatusOr<ember::v1::ListModelsResponse> models = client.ListModels(WithTimeout());
  if (!models.ok() || models->models_size() == 0) {
    std::fprintf(stderr, "ember_soak: ListModels on %s failed: %s\n", o.address.c_str(),
                 models.ok() ? "no models" : models.status().ToString().c_str());
    return kExitUsage;
  }
  LoadOptions load_options = o.load;
  load_options.shape.context_length = models->models(0).context_length();
  load_options.shape.vocab_size = models->models(0).vocab_size();

  MonitorOptions monitor_options;
  monitor_options.server_pid = o.server_pid;
  if (!o.metrics_url.empty()) monitor_options.metrics = *ParseMetricsUrl(o.metrics_url);
  monitor_options.period = o.sample_period;
  LoadGenerator load(client, load_options);
  ServerMonitor monitor(monitor_options, [&load] { return load.progress(); });

  // Baseline, load, drain.
  const absl::Time origin = absl::Now();
  const MonitorSample baseline = monitor.Sample(SoakPhase::kBaseline, origin);
  run.metrics_before = baseline.metrics;
  const absl::Time load_end = origin + o.duration;
  load.Start(load_end);
  monitor.StartPeriodic(origin);
  std::fprintf(stderr, "ember_soak: %d clients for %.0f s against %s\n", o.load.clients,
               absl::ToDoubleSeconds(o.duration), o.address.c_str());
  // Wakes every second to end the load early if the server process is gone (no point sending
  // a dead server requests for the rest of a 30-minute run), and to print progress.
  absl::Time next_progress = origin + o.progress_period;
  for (absl::Time now = absl::Now(); now < load_end; now = absl::Now()) {
    absl::SleepFor(std::min(load_end, now + absl::Seconds(1)) - now);
    if (o.server_pid > 0 && !monitor.first_process_error().empty()) {
      run.ended_early =
          absl::StrCat("the server process is gone (", monitor.first_process_error(), ")");
      load.EndNow();
      break;
    }
    if (o.progress_period > absl::ZeroDuration() && absl::Now() >= next_progress &&
        absl::Now() < load_end) {
      const std::vector<MonitorSample> samples = monitor.samples();
      PrintProgress(origin, load.progress(),
                    samples.empty() ? std::nullopt : std::optional<MonitorSample>(samples.back()));
      next_progress += o.progress_period;
    }
  }
  const absl::Time load_ended = absl::Now();
  run.load_seconds = absl::ToDoubleSeconds(load_ended - origin);
  monitor.SetPhase(SoakPhase::kDrain);
  const absl::Time drain_deadline = load_ended + o.drain_timeout;
  load.WaitForIdle(drain_deadline - absl::Now());
  run.stream_drain_seconds = absl::ToDoubleSeconds(absl::Now() - load_ended);
  run.abandoned = load.AbandonAndJoin();
  if (monitor_options.metrics.has_value()) {
    // A dead server gets one last try, not the whole drain timeout.
    const absl::Time gauge_deadline = run.ended_early.empty() ? drain_deadline : absl::Now();
    run.metrics_after = AwaitDrainedGauges(*monitor_options.metrics,
                                           std::max(gauge_deadline, absl::Now() + absl::Seconds(1)),
                                           run.metrics_error);
  }
  monitor.Stop();
  const MonitorSample final_sample = monitor.Sample(SoakPhase::kFinal, origin);
  if (final_sample.metrics.has_value()) run.metrics_after = final_sample.metrics;
  run.server_alive_at_end = final_sample.process.has_value();
  run.health_after = HealthText(client);

  const LoadProgress progress = load.progress();
  run.started = progress.started;
  run.tokens = progress.tokens;
  run.tally = load.tally();
  run.samples = monitor.samples();
  for (const MonitorSample& s : run.samples) {
    if (monitor_options.metrics.has_value() && !s.metrics.has_value()) ++run.failed_scrapes;
  }
  if (run.metrics_error.empty()) run.metrics_error = monitor.first_metrics_error();
  run.process_error = monitor.first_process_error();

  const ResourceStats resources =
      SummarizeResources(run.samples, absl::ToDoubleSeconds(o.duration));
  const std::vector<Check> checks = EvaluateChecks(run, resources);
  std::fputs(FormatReport(run, resources, checks).c_str(), stdout);
  std::fflush(stdout);
  if (!o.csv_path.empty()) {
    std::ofstream csv(o.csv_path);
    csv << FormatCsv(run.samples);
    if (!csv) {
      std::fprintf(stderr, "ember_soak: cannot write --csv=%s\n", o.csv_path.c_str());
      return kExitChecksFailed;
    }
  }
  return AllPassed(checks) ? 0 : kExitChecksFailed;
}

}  // namespace
}  // namespace ember::soak

int main(int argc, char** argv) { return ember::soak::Main(argc, argv); }
