#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ember {
namespace {

using prometheus::Histogram;

// Latency buckets for CPU serving: a token takes milliseconds to a few hundred milliseconds; a
// whole request seconds to minutes.
Histogram::BucketBoundaries TokenLatencyBuckets() {
  return {0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5};
}
Histogram::BucketBoundaries FirstTokenBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0};
}
Histogram::BucketBoundaries RequestBuckets() {
  return {0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0};
}
Histogram::BucketBoundaries StepTokenBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    default:
      return "OTHER";
  }
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      rpcs_(prometheus::BuildCounter()
                .Name("ember_rpcs_total")
                .Help("Finished calls by protocol (grpc, http), method (gRPC method or HTTP "
                      "path) and status code (gRPC's names; HTTP outcomes by the same codes).")
                .Register(*registry_)),
      finished_(prometheus::BuildCounter()
                    .Name("ember_requests_total")
                    .Help("Finished generation requests by finish reason (eos, stop_sequence, "
                          "length, cancelled, deadline, rejected, error).")
                    .Register(*registry_)),
      time_to_first_token_(prometheus::BuildHistogram()
                               .Name("ember_time_to_first_token_seconds")
                               .Help("Submission to first generated token.")
                               .Register(*registry_)
                               .Add({}, FirstTokenBuckets())),
      inter_token_latency_(prometheus::BuildHistogram()
                               .Name("ember_inter_token_latency_seconds")
                               .Help("Time between consecutive generated tokens of a request.")
                               .Register(*registry_)
                               .Add({}, TokenLatencyBuckets())),
      request_duration_(prometheus::BuildHistogram()
                            .Name("ember_request_duration_seconds")
                            .Help("Submission to completion of generation requests.")
                            .Register(*registry_)
                            .Add({}, RequestBuckets())),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("ember_queue_wait_seconds")
                      .Help("Submission to first scheduling step.")
                      .Register(*registry_)
                      .Add({}, FirstTokenBuckets())),
      prompt_tokens_(prometheus::BuildCounter()
                         .Name("ember_prompt_tokens_total")
                         .Help("Prompt tokens of finished requests.")
                         .Register(*registry_)
                         .Add({})),
      generated_tokens_(prometheus::BuildCounter()
                            .Name("ember_generated_tokens_total")
                            .Help("Tokens generated.")
                            .Register(*registry_)
                            .Add({})),
      running_(prometheus::BuildGauge()
                   .Name("ember_requests_running")
                   .Help("Requests in the running batch.")
                   .Register(*registry_)
                   .Add({})),
      waiting_(prometheus::BuildGauge()
                   .Name("ember_requests_waiting")
                   .Help("Requests waiting for admission.")
                   .Register(*registry_)
                   .Add({})),
      step_tokens_(prometheus::BuildHistogram()
                       .Name("ember_step_tokens")
                       .Help("Tokens processed per engine step (prefill + decode).")
                       .Register(*registry_)
                       .Add({}, StepTokenBuckets())),
      step_duration_(prometheus::BuildHistogram()
                         .Name("ember_step_duration_seconds")
                         .Help("Wall time of one engine step (forward pass and sampling).")
                         .Register(*registry_)
                         .Add({}, TokenLatencyBuckets())),
      kv_blocks_used_(prometheus::BuildGauge()
                          .Name("ember_kv_cache_blocks_used")
                          .Help("KV-cache blocks holding sequences.")
                          .Register(*registry_)
                          .Add({})),
      kv_blocks_total_(prometheus::BuildGauge()
                           .Name("ember_kv_cache_blocks_total")
                           .Help("KV-cache blocks in the pool.")
                           .Register(*registry_)
                           .Add({})),
      preemptions_(prometheus::BuildCounter()
                       .Name("ember_preemptions_total")
                       .Help("Sequences preempted (KV blocks reclaimed, recomputed later).")
                       .Register(*registry_)
                       .Add({})),
      prefix_queried_tokens_(prometheus::BuildCounter()
                                 .Name("ember_prefix_cache_queried_tokens_total")
                                 .Help("Prompt tokens of admitted requests that could use the "
                                       "prefix cache (the hit rate's denominator).")
                                 .Register(*registry_)
                                 .Add({})),
      prefix_hit_tokens_(prometheus::BuildCounter()
                             .Name("ember_prefix_cache_hit_tokens_total")
                             .Help("Prompt tokens served from the prefix cache, not computed.")
                             .Register(*registry_)
                             .Add({})),
      prefix_blocks_(prometheus::BuildGauge()
                         .Name("ember_prefix_cache_blocks")
                         .Help("KV blocks in the prefix cache (held by requests or evictable).")
                         .Register(*registry_)
                         .Add({})),
      prefix_evictions_(prometheus::BuildCounter()
                            .Name("ember_prefix_cache_evictions_total")
                            .Help("Cached KV blocks reused for new contents.")
                            .Register(*registry_)
                            .Add({})),
      slow_readers_(prometheus::BuildCounter()
                        .Name("ember_slow_reader_cancellations_total")
                        .Help("Streams cancelled because the client stopped reading.")
                        .Register(*registry_)
                        .Add({})),
      stream_buffered_bytes_(
          prometheus::BuildGauge()
              .Name("ember_stream_buffered_bytes")
              .Help("Stream output waiting for clients to accept it, over all streams (one "
                    "stream holds about --max_stream_buffer_bytes at most).")
              .Register(*registry_)
              .Add({})),
      model_info_(prometheus::BuildGauge()
                      .Name("ember_model_info")
                      .Help("The served model (value 1), labelled with its name and dtype.")
                      .Register(*registry_)) {
  for (const char* reason :
       {"eos", "stop_sequence", "length", "cancelled", "deadline", "rejected", "error"}) {
    finished_.Add({{"finish_reason", reason}});  // present at 0 from the start
  }
}

namespace {

// Opens and closes one TCP connection to host:port (IPv4 literal), ignoring every failure.
void Knock(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) {
    (void)::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  }
  ::close(fd);
}

}  // namespace

Metrics::~Metrics() {
  if (exposer_ == nullptr) return;
  // civetweb's listener thread polls its sockets with a 2 s timeout and checks for a stop only
  // between polls, so stopping it idles up to 2 s (every server shutdown, every test server). A
  // connection to the port ends the poll at once: knock until the exposer is gone.
  const int port = this->port();
  std::atomic<bool> stopped{false};
  std::thread knocker([&] {
    while (!stopped.load()) {
      absl::SleepFor(absl::Milliseconds(5));
      if (!stopped.load()) Knock(exposer_host_, port);
    }
  });
  exposer_.reset();
  stopped.store(true);
  knocker.join();
}

absl::Status Metrics::StartExposer(const std::string& address) {
  // Wildcard and name hosts are reached over loopback by the shutdown knock above.
  const size_t colon = address.rfind(':');
  exposer_host_ = colon == std::string::npos ? "" : address.substr(0, colon);
  in_addr parsed{};
  if (exposer_host_.empty() || exposer_host_ == "0.0.0.0" ||
      ::inet_pton(AF_INET, exposer_host_.c_str(), &parsed) != 1) {
    exposer_host_ = "127.0.0.1";
  }
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  return absl::OkStatus();
}

int Metrics::port() const {
  if (exposer_ == nullptr) return 0;
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void Metrics::OnStep(const StepStats& stats) {
  if (!recording()) return;
  step_tokens_.Observe(static_cast<double>(stats.prefill_tokens + stats.decode_tokens));
  step_duration_.Observe(absl::ToDoubleSeconds(stats.duration));
  if (stats.preemptions > 0) preemptions_.Increment(static_cast<double>(stats.preemptions));
  prefix_queried_tokens_.Increment(static_cast<double>(stats.prefix_cache_queried_tokens));
  prefix_hit_tokens_.Increment(static_cast<double>(stats.prefix_cache_hit_tokens));
  prefix_blocks_.Set(static_cast<double>(stats.prefix_cache_blocks));
  // The engine reports a running total; the counter takes the growth since the last step.
  const int64_t evictions = stats.prefix_cache_evictions;
  const int64_t seen = evictions_seen_.exchange(evictions, std::memory_order_relaxed);
  if (evictions > seen) prefix_evictions_.Increment(static_cast<double>(evictions - seen));
}

void Metrics::OnQueueState(int64_t running, int64_t waiting, int64_t kv_blocks_used,
                           int64_t kv_blocks_total) {
  if (!recording()) return;
  running_.Set(static_cast<double>(running));
  waiting_.Set(static_cast<double>(waiting));
  kv_blocks_used_.Set(static_cast<double>(kv_blocks_used));
  kv_blocks_total_.Set(static_cast<double>(kv_blocks_total));
}

void Metrics::OnToken(bool first, absl::Duration since_previous) {
  if (!recording()) return;
  generated_tokens_.Increment();
  if (first) {
    time_to_first_token_.Observe(absl::ToDoubleSeconds(since_previous));
  } else {
    inter_token_latency_.Observe(absl::ToDoubleSeconds(since_previous));
  }
}

void Metrics::OnRequestFinished(FinishReason reason, const RequestTimings& timings) {
  if (!recording()) return;
  finished_.Add({{"finish_reason", std::string(FinishReasonName(reason))}}).Increment();
  prompt_tokens_.Increment(static_cast<double>(timings.prompt_tokens));
  request_duration_.Observe(absl::ToDoubleSeconds(timings.total));
  if (timings.queue_wait > absl::ZeroDuration() || timings.generated_tokens > 0) {
    queue_wait_.Observe(absl::ToDoubleSeconds(timings.queue_wait));
  }
}

void Metrics::OnRequestRejected() {
  if (!recording()) return;
  finished_.Add({{"finish_reason", std::string(FinishReasonName(FinishReason::kRejected))}})
      .Increment();
}

void Metrics::OnRpcFinished(const std::string& method, grpc::StatusCode code) {
  rpcs_.Add({{"method", method}, {"code", CodeName(code)}, {"protocol", "grpc"}}).Increment();
}

void Metrics::OnHttpRequestFinished(const std::string& path, absl::StatusCode code) {
  // absl and gRPC share the canonical code numbering.
  rpcs_
      .Add({{"method", path},
            {"code", CodeName(static_cast<grpc::StatusCode>(code))},
            {"protocol", "http"}})
      .Increment();
}

void Metrics::OnSlowReaderCancelled() { slow_readers_.Increment(); }

void Metrics::AddStreamBufferedBytes(int64_t delta) {
  stream_buffered_bytes_.Increment(static_cast<double>(delta));
}

void Metrics::SetModelInfo(const std::string& model, const std::string& dtype,
                           int64_t kv_blocks_total) {
  model_info_.Add({{"model", model}, {"dtype", dtype}}).Set(1);
  kv_blocks_total_.Set(static_cast<double>(kv_blocks_total));
}

}  // namespace ember
