#include "client/cli/bench_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"

namespace ember::client {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Adds one request's measurements to `result` (owned by the calling worker).
void RunOneRequest(const EmberClient& client, const BenchOptions& options, int index,
                   BenchResult& result) {
  ember::v1::GenerateRequest request = options.request;
  if (request.request_id().empty()) request.set_request_id(absl::StrCat("bench-", index));
  if (options.vary_request) options.vary_request(index, request);

  const Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> previous_token;
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client.GenerateStream(
      request,
      [&](const ember::v1::GenerateStreamResponse& message) {
        const int tokens = message.token_ids_size();
        if (tokens == 0) return true;
        const Clock::time_point now = Clock::now();
        result.generated_tokens += tokens;
        if (!previous_token.has_value()) {
          result.ttft_seconds.push_back(SecondsBetween(start, now));
          // The first token's companions in the same message arrived with no gap of their own.
          for (int i = 1; i < tokens; ++i) result.itl_seconds.push_back(0.0);
        } else {
          const double per_token = SecondsBetween(*previous_token, now) / tokens;
          for (int i = 0; i < tokens; ++i) result.itl_seconds.push_back(per_token);
        }
        previous_token = now;
        return true;
      },
      options.call_options);
  if (last.ok()) {
    ++result.requests_ok;
    return;
  }
  ++result.requests_failed;
  ++result.errors[last.status().code()];
  result.first_error.emplace(last.status().code(), std::string(last.status().message()));
}

void Merge(BenchResult& into, BenchResult& from) {
  into.requests_ok += from.requests_ok;
  into.requests_failed += from.requests_failed;
  into.generated_tokens += from.generated_tokens;
  into.ttft_seconds.insert(into.ttft_seconds.end(), from.ttft_seconds.begin(),
                           from.ttft_seconds.end());
  into.itl_seconds.insert(into.itl_seconds.end(), from.itl_seconds.begin(), from.itl_seconds.end());
  for (const auto& [code, count] : from.errors) into.errors[code] += count;
  // Workers are merged in order, so "first" means first by worker, which is good enough for an
  // example message.
  for (auto& [code, message] : from.first_error) into.first_error.emplace(code, message);
}

}  // namespace

void RunClosedLoop(int workers, int requests, absl::FunctionRef<void(int, int)> run) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = next.fetch_add(1); i < requests; i = next.fetch_add(1)) run(w, i);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

absl::StatusOr<BenchResult> RunBench(const EmberClient& client, const BenchOptions& options) {
  if (options.requests < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench requests must be >= 1, got ", options.requests));
  }
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bench concurrency must be >= 1, got ", options.concurrency));
  }
  if (options.call_options.handle != nullptr) {
    return absl::InvalidArgumentError("bench call_options.handle must be null");
  }
  const int workers = std::min(options.concurrency, options.requests);

  // Each worker keeps its own result, so the hot path takes no lock; results are merged after.
  std::vector<BenchResult> partial(workers);
  const Clock::time_point start = Clock::now();
  RunClosedLoop(workers, options.requests, [&](int worker, int index) {
    RunOneRequest(client, options, index, partial[worker]);
  });
  const Clock::time_point end = Clock::now();

  BenchResult result;
  for (BenchResult& worker_result : partial) Merge(result, worker_result);
  result.wall_time = absl::FromChrono(end - start);
  return result;
}

}  // namespace ember::client
