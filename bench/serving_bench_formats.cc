#include "bench/serving_bench_formats.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/cli/latency_stats.h"
#include "client/ember_client.h"
#include "server/ember_server.h"

namespace ember::bench {
namespace {

struct FormatServer {
  std::string name;
  std::unique_ptr<EmberServer> server;
  std::unique_ptr<client::EmberClient> client;
  std::vector<LoadResult> runs;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

absl::Status RunFormatComparison(const FormatComparison& comparison) {
  const LoadSpec& spec = comparison.spec;
  std::vector<FormatServer> servers;
  for (size_t i = 0; i < comparison.names.size(); ++i) {
    ServerOptions options;
    options.engine.model_dir = comparison.model_dir;
    options.engine.compute = comparison.compute;
    options.engine.quantize = comparison.schemes[i];
    options.engine.threads = comparison.threads;
    options.engine.max_running = std::max(spec.clients, 1);
    options.engine.max_context =
        static_cast<int64_t>(spec.prompt_tokens.size()) + spec.max_new_tokens + 16;
    options.engine.prefix_cache = comparison.prefix_cache;
    options.grpc_address = "127.0.0.1:0";
    options.metrics_address = "127.0.0.1:0";
    options.log_requests = false;
    auto server = EmberServer::Start(options);
    if (!server.ok()) {
      return absl::Status(server.status().code(),
                          absl::StrCat(comparison.names[i], ": ", server.status().message()));
    }
    auto client = client::EmberClient::Create(absl::StrCat("127.0.0.1:", (*server)->grpc_port()),
                                              client::ClientOptions{});
    if (!client.ok()) return client.status();
    servers.push_back({comparison.names[i], std::move(*server), std::move(*client), {}});
  }
  // Warm-up: one request per server (connection set-up, first-use allocations).
  LoadSpec warm = spec;
  warm.clients = 1;
  warm.requests = 1;
  for (FormatServer& s : servers) {
    if (auto w = RunGrpcLoad(*s.client, warm); !w.ok()) return w.status();
  }
  LoadSpec load = spec;
  load.requests = spec.clients * std::max(1, comparison.requests_per_client);
  const int rounds = std::max(1, comparison.rounds);
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < servers.size(); ++k) {
      FormatServer& s = servers[(k + static_cast<size_t>(round)) % servers.size()];
      auto run = RunGrpcLoad(*s.client, load);
      if (!run.ok()) return run.status();
      std::fprintf(stderr, "round %d %-6s %8.1f tok/s\n", round + 1, s.name.c_str(),
                   run->tokens_per_second());
      s.runs.push_back(std::move(*run));
    }
  }
  std::printf(
      "formats side by side: %s, %d clients through gRPC, prompt %zu + %d generated tokens, %d "
      "rounds (format order rotating)\n",
      comparison.model_dir.c_str(), spec.clients, spec.prompt_tokens.size(), spec.max_new_tokens,
      rounds);
  std::printf("%-8s %10s %10s %9s %9s %9s %9s\n", "format", "best tok/s", "med tok/s", "x best",
              "x median", "ttft p50", "itl p50");
  double base_best = 0, base_median = 0;
  for (size_t i = 0; i < servers.size(); ++i) {
    const FormatServer& s = servers[i];
    std::vector<double> rates;
    const LoadResult* best = &s.runs.front();
    for (const LoadResult& r : s.runs) {
      rates.push_back(r.tokens_per_second());
      if (r.tokens_per_second() > best->tokens_per_second()) best = &r;
    }
    const double median = Median(rates);
    if (i == 0) {
      base_best = best->tokens_per_second();
      base_median = median;
    }
    std::printf("%-8s %10.1f %10.1f %8.2fx %8.2fx %7.1fms %7.1fms\n", s.name.c_str(),
                best->tokens_per_second(), median, best->tokens_per_second() / base_best,
                median / base_median, client::Summarize(best->ttft_seconds).p50 * 1e3,
                client::Summarize(best->itl_seconds).p50 * 1e3);
  }
  for (FormatServer& s : servers) s.server->Shutdown();
  return absl::OkStatus();
}

}  // namespace ember::bench
