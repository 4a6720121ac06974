// Closed-loop load for the serving benchmark, driven two ways over the same server: through gRPC
// (ember_cli's bench runner over a real loopback channel) and straight into the server's Engine
// in-process. The difference between the two is what the gRPC layer costs.
#ifndef EMBER_BENCH_SERVING_BENCH_LOAD_H_
#define EMBER_BENCH_SERVING_BENCH_LOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/ember_client.h"
#include "core/engine/engine.h"

namespace ember::bench {

struct LoadSpec {
  // Clients, each with one request in flight at a time (closed loop).
  int clients = 1;
  // Requests sent in total (spread over the clients as they free up).
  int requests = 1;
  // Every request: this prompt, exactly max_new_tokens tokens (EOS ignored).
  std::vector<int32_t> prompt_tokens;
  int32_t max_new_tokens = 64;
  // 0: greedy. Otherwise sampled at this temperature with top_p (seeded per request index).
  float temperature = 0;
  float top_p = 1;
  // When > 0: every request of the process gets a prompt of its own (its first two tokens count
  // requests in base vocab_size), so no two requests share a cached prefix, across runs too.
  int64_t distinct_prompts_vocab = 0;
};

// The prompt of the next request under `spec`: spec.prompt_tokens, made distinct as the spec says.
// Thread-safe.
std::vector<int32_t> NextPrompt(const LoadSpec& spec);

// What one load run measured. Times in seconds.
struct LoadResult {
  std::string path;  // "grpc" or "in-process"
  int clients = 0;
  double wall_seconds = 0;
  int64_t requests_ok = 0;
  int64_t requests_failed = 0;
  int64_t generated_tokens = 0;
  std::vector<double> ttft_seconds;  // one per request: start -> first token seen by the caller
  std::vector<double> itl_seconds;   // one per token after each request's first
  double tokens_per_second() const {
    return wall_seconds > 0 ? generated_tokens / wall_seconds : 0;
  }
};

// GenerateStream calls through `client`; FAILED_PRECONDITION if any request failed (the first
// error's message says why).
absl::StatusOr<LoadResult> RunGrpcLoad(const client::EmberClient& client, const LoadSpec& spec);

// Engine::Submit from `spec.clients` threads, tokens observed in the event callback.
absl::StatusOr<LoadResult> RunInProcessLoad(Engine& engine, const LoadSpec& spec);

}  // namespace ember::bench

#endif  // EMBER_BENCH_SERVING_BENCH_LOAD_H_
