#include "bench/serving_bench_load.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/cli/bench_runner.h"

namespace ember::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsBetween(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Requests given a distinct prompt so far, in this process.
std::atomic<int64_t> distinct_requests{0};

absl::Status CheckSpec(const LoadSpec& spec) {
  if (spec.clients < 1 || spec.requests < 1 || spec.prompt_tokens.empty() ||
      spec.max_new_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("load spec needs clients, requests, max_new_tokens >= 1 and a prompt; got ",
                     spec.clients, ", ", spec.requests, ", ", spec.max_new_tokens, ", ",
                     spec.prompt_tokens.size(), " prompt tokens"));
  }
  return absl::OkStatus();
}

// One in-process request's observations, written by the engine's loop thread.
struct RequestTrace {
  SteadyClock::time_point start;
  std::optional<SteadyClock::time_point> previous_token;
  std::vector<double> itl_seconds;
  double ttft_seconds = -1;
  int64_t tokens = 0;
  bool ok = false;
  absl::Notification done;
};

// Submits one request and blocks until its final event; adds its figures to `result`.
void RunOneInProcess(Engine& engine, const LoadSpec& spec, int index, LoadResult& result) {
  GenerationRequest request;
  request.request_id = absl::StrCat("bench-", index);
  request.prompt_tokens = NextPrompt(spec);
  request.sampling.temperature = spec.temperature;
  request.sampling.top_p = spec.top_p;
  request.max_new_tokens = spec.max_new_tokens;
  request.ignore_eos = true;
  // Shared with the callback: the engine may run (and destroy) it after the waiter has woken.
  auto shared_trace = std::make_shared<RequestTrace>();
  RequestTrace& trace = *shared_trace;
  trace.start = SteadyClock::now();
  auto id = engine.Submit(std::move(request), [shared_trace](const GenerationEvent& event) {
    RequestTrace& state = *shared_trace;
    if (!event.tokens.empty()) {
      const SteadyClock::time_point now = SteadyClock::now();
      const int n = static_cast<int>(event.tokens.size());
      if (!state.previous_token.has_value()) {
        state.ttft_seconds = SecondsBetween(state.start, now);
        for (int i = 1; i < n; ++i) state.itl_seconds.push_back(0.0);
      } else {
        const double per_token = SecondsBetween(*state.previous_token, now) / n;
        for (int i = 0; i < n; ++i) state.itl_seconds.push_back(per_token);
      }
      state.previous_token = now;
      state.tokens += n;
    }
    if (event.finished) {
      state.ok = event.finish_reason == FinishReason::kLength;
      state.done.Notify();
    }
  });
  if (!id.ok()) {
    ++result.requests_failed;
    return;
  }
  trace.done.WaitForNotification();
  trace.ok ? ++result.requests_ok : ++result.requests_failed;
  result.generated_tokens += trace.tokens;
  if (trace.ttft_seconds >= 0) result.ttft_seconds.push_back(trace.ttft_seconds);
  result.itl_seconds.insert(result.itl_seconds.end(), trace.itl_seconds.begin(),
                            trace.itl_seconds.end());
}

}  // namespace

std::vector<int32_t> NextPrompt(const LoadSpec& spec) {
  std::vector<int32_t> prompt = spec.prompt_tokens;
  const int64_t vocab = spec.distinct_prompts_vocab;
  if (vocab <= 0) return prompt;
  const int64_t n = distinct_requests.fetch_add(1);
  prompt[0] = static_cast<int32_t>(n % vocab);
  if (prompt.size() > 1) prompt[1] = static_cast<int32_t>((n / vocab) % vocab);
  return prompt;
}

absl::StatusOr<LoadResult> RunGrpcLoad(const client::EmberClient& client, const LoadSpec& spec) {
  if (absl::Status s = CheckSpec(spec); !s.ok()) return s;
  client::BenchOptions options;
  options.concurrency = spec.clients;
  options.requests = spec.requests;
  for (int32_t t : spec.prompt_tokens) options.request.add_prompt_token_ids(t);
  options.request.mutable_sampling()->set_temperature(spec.temperature);
  options.request.mutable_sampling()->set_top_p(spec.top_p);
  options.request.set_max_new_tokens(spec.max_new_tokens);
  options.request.set_ignore_eos(true);
  if (spec.distinct_prompts_vocab > 0) {
    options.vary_request = [&spec](int, ember::v1::GenerateRequest& request) {
      request.clear_prompt_token_ids();
      for (int32_t t : NextPrompt(spec)) request.add_prompt_token_ids(t);
    };
  }
  auto bench = client::RunBench(client, options);
  if (!bench.ok()) return bench.status();
  if (bench->requests_failed > 0) {
    const auto& [code, message] = *bench->first_error.begin();
    return absl::FailedPreconditionError(
        absl::StrCat(bench->requests_failed, " gRPC requests failed, e.g. ",
                     absl::StatusCodeToString(code), ": ", message));
  }
  LoadResult result;
  result.path = "grpc";
  result.clients = spec.clients;
  result.wall_seconds = absl::ToDoubleSeconds(bench->wall_time);
  result.requests_ok = bench->requests_ok;
  result.generated_tokens = bench->generated_tokens;
  result.ttft_seconds = std::move(bench->ttft_seconds);
  result.itl_seconds = std::move(bench->itl_seconds);
  return result;
}

absl::StatusOr<LoadResult> RunInProcessLoad(Engine& engine, const LoadSpec& spec) {
  if (absl::Status s = CheckSpec(spec); !s.ok()) return s;
  const int workers = std::min(spec.clients, spec.requests);
  // As in the gRPC runner: each worker keeps its own figures, merged after the join.
  std::vector<LoadResult> partial(workers);
  const SteadyClock::time_point start = SteadyClock::now();
  client::RunClosedLoop(workers, spec.requests, [&](int worker, int index) {
    RunOneInProcess(engine, spec, index, partial[worker]);
  });
  LoadResult result;
  result.path = "in-process";
  result.clients = spec.clients;
  result.wall_seconds = SecondsBetween(start, SteadyClock::now());
  for (LoadResult& p : partial) {
    result.requests_ok += p.requests_ok;
    result.requests_failed += p.requests_failed;
    result.generated_tokens += p.generated_tokens;
    result.ttft_seconds.insert(result.ttft_seconds.end(), p.ttft_seconds.begin(),
                               p.ttft_seconds.end());
    result.itl_seconds.insert(result.itl_seconds.end(), p.itl_seconds.begin(), p.itl_seconds.end());
  }
  if (result.requests_failed > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(result.requests_failed, " in-process requests did not end with 'length'"));
  }
  return result;
}

}  // namespace ember::bench
