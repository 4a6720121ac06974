#include "bench/serving_bench_http_load.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/bench_runner.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace ember::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsBetween(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One streamed completion on `client`'s connection; adds its figures to `result`.
void RunOneHttp(httplib::Client& client, const std::string& body, LoadResult& result,
                std::string& first_error) {
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/completions";
  request.body = body;
  request.set_header("Content-Type", "application/json");
  const SteadyClock::time_point start = SteadyClock::now();
  std::optional<SteadyClock::time_point> previous;
  std::vector<SteadyClock::time_point> chunk_times;
  int64_t tokens = 0;
  bool done = false;
  std::string buffer;
  request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    const SteadyClock::time_point now = SteadyClock::now();
    buffer.append(data, size);
    size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      const std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) continue;
      if (event == "data: [DONE]") {
        done = true;
        continue;
      }
      nlohmann::json chunk = nlohmann::json::parse(event.substr(6), nullptr, false);
      if (chunk.is_discarded()) continue;
      if (chunk.contains("usage") && chunk["usage"].is_object()) {
        tokens = chunk["usage"]["completion_tokens"].get<int64_t>();
      } else if (chunk.contains("choices")) {
        chunk_times.push_back(now);
      }
    }
    return true;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client.send(request, response, error);
  if (!sent || response.status != 200 || !done || chunk_times.empty()) {
    ++result.requests_failed;
    if (first_error.empty()) {
      first_error = absl::StrCat("status ", response.status, ", transport error ",
                                 httplib::to_string(error), ": ", buffer.substr(0, 300));
    }
    return;
  }
  ++result.requests_ok;
  result.generated_tokens += tokens;
  result.ttft_seconds.push_back(SecondsBetween(start, chunk_times.front()));
  // Chunks carry one token each but the last few (stop-string holdback aside: none here); the
  // tokens beyond the chunk count are spread evenly, as the gRPC runner does for coalesced ones.
  const int64_t gaps = static_cast<int64_t>(chunk_times.size()) - 1;
  if (gaps > 0 && tokens > 1) {
    const double per_token =
        SecondsBetween(chunk_times.front(), chunk_times.back()) / static_cast<double>(tokens - 1);
    for (int64_t i = 1; i < tokens; ++i) result.itl_seconds.push_back(per_token);
  }
}

}  // namespace

absl::StatusOr<LoadResult> RunHttpLoad(int port, const LoadSpec& spec) {
  if (spec.clients < 1 || spec.requests < 1 || spec.prompt_tokens.empty()) {
    return absl::InvalidArgumentError("load spec needs clients, requests and a prompt");
  }
  auto body = [&spec]() {
    const nlohmann::json json = {{"prompt", NextPrompt(spec)},
                                 {"max_tokens", spec.max_new_tokens},
                                 {"temperature", spec.temperature},
                                 {"top_p", spec.top_p},
                                 {"ignore_eos", true},
                                 {"stream", true},
                                 {"stream_options", {{"include_usage", true}}}};
    return json.dump();
  };
  const int workers = std::min(spec.clients, spec.requests);
  std::vector<LoadResult> partial(workers);
  std::vector<std::string> errors(workers);
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < workers; ++i) {
    clients.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    clients.back()->set_keep_alive(true);
    // As curl and the Python SDKs' transports do: without it, Nagle holds the request body until
    // the server's delayed ACK of the headers (40 ms).
    clients.back()->set_tcp_nodelay(true);
    clients.back()->set_read_timeout(300, 0);
  }
  const SteadyClock::time_point start = SteadyClock::now();
  client::RunClosedLoop(workers, spec.requests, [&](int worker, int /*index*/) {
    RunOneHttp(*clients[worker], body(), partial[worker], errors[worker]);
  });
  LoadResult result;
  result.path = "http";
  result.clients = spec.clients;
  result.wall_seconds = SecondsBetween(start, SteadyClock::now());
  std::string first_error;
  for (int i = 0; i < workers; ++i) {
    LoadResult& p = partial[i];
    result.requests_ok += p.requests_ok;
    result.requests_failed += p.requests_failed;
    result.generated_tokens += p.generated_tokens;
    result.ttft_seconds.insert(result.ttft_seconds.end(), p.ttft_seconds.begin(),
                               p.ttft_seconds.end());
    result.itl_seconds.insert(result.itl_seconds.end(), p.itl_seconds.begin(), p.itl_seconds.end());
    if (first_error.empty()) first_error = errors[i];
  }
  if (result.requests_failed > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(result.requests_failed, " HTTP requests failed, e.g. ", first_error));
  }
  return result;
}

}  // namespace ember::bench
