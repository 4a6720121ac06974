// Load generation for ember_cli bench: a fixed number of streaming requests, a fixed number in
// flight, with per-token arrival times measured on this side.
#ifndef EMBER_CLIENT_CLI_BENCH_RUNNER_H_
#define EMBER_CLIENT_CLI_BENCH_RUNNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client_options.h"
#include "client/ember_client.h"
#include "ember/v1/generation.pb.h"

namespace ember::client {

struct BenchOptions {
  // Requests in flight at once, one worker thread each; >= 1 (more than `requests` is trimmed).
  int concurrency = 1;
  // Requests sent in total; >= 1. The run ends when every one has finished.
  int requests = 1;
  // Sent by every request through GenerateStream. An empty request_id becomes "bench-<index>".
  ember::v1::GenerateRequest request;
  // Applied to every request (deadline, metadata); `handle` must be null.
  CallOptions call_options;
  // When set, called on each request's copy of `request` before it is sent (index in
  // [0, requests)), e.g. to give every request a prompt of its own. Called from the worker
  // threads concurrently.
  std::function<void(int index, ember::v1::GenerateRequest& request)> vary_request;
};

struct BenchResult {
  // From the first request's start to the last one's end.
  absl::Duration wall_time;
  int64_t requests_ok = 0;
  int64_t requests_failed = 0;
  // Token ids received, over every request (failed ones included: the server did generate them).
  int64_t generated_tokens = 0;
  // One per request that received a token: call start to the first message carrying a token.
  std::vector<double> ttft_seconds;
  // One per token after each request's first: the gap between the arrival of its message and the
  // previous token-carrying message, divided by the tokens the message carries.
  std::vector<double> itl_seconds;
  // Failed requests per status code, and the first message seen for each code.
  std::map<absl::StatusCode, int64_t> errors;
  std::map<absl::StatusCode, std::string> first_error;
};

// The closed loop both benchmarks use: `workers` threads, each taking the next request index in
// [0, requests) until none is left and calling `run(worker, index)`; returns when all are done.
void RunClosedLoop(int workers, int requests, absl::FunctionRef<void(int, int)> run);

// Runs the benchmark; fails only on invalid options (a failed request is counted, not returned).
absl::StatusOr<BenchResult> RunBench(const EmberClient& client, const BenchOptions& options);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_BENCH_RUNNER_H_
