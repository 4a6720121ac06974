// ember's Prometheus metrics (prometheus-cpp), defined once here with names, help and units.
// Implements EngineObserver, so the engine reports plain numbers and only server/ knows Prometheus.
//
// Thread-safety: prometheus-cpp metrics are atomic; every method may be called from any thread.
#ifndef EMBER_SERVER_METRICS_H_
#define EMBER_SERVER_METRICS_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/engine/engine_observer.h"
#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace ember {

class Metrics : public EngineObserver {
 public:
  Metrics();
  // Stops the /metrics endpoint without civetweb's up-to-2 s wait (see metrics.cc).
  ~Metrics() override;

  // Serves /metrics on `address` ("host:port"; port 0 picks one). INVALID_ARGUMENT / UNAVAILABLE
  // naming the address when it cannot bind.
  absl::Status StartExposer(const std::string& address);
  // The bound port, or 0 when not exposing.
  int port() const;

  // EngineObserver.
  void OnStep(const StepStats& stats) override;
  void OnQueueState(int64_t running, int64_t waiting, int64_t kv_blocks_used,
                    int64_t kv_blocks_total) override;
  void OnToken(bool first, absl::Duration since_previous) override;
  void OnRequestFinished(FinishReason reason, const RequestTimings& timings) override;
  void OnRequestRejected() override;

  // One finished gRPC call, by method and status code (protocol="grpc").
  void OnRpcFinished(const std::string& method, grpc::StatusCode code);
  // One finished HTTP API call, by path and the canonical code of its outcome (protocol="http"),
  // so both protocols share one vocabulary of outcomes.
  void OnHttpRequestFinished(const std::string& path, absl::StatusCode code);
  // A stream cancelled because its client stopped reading.
  void OnSlowReaderCancelled();
  // Stream output held for clients that have not accepted it yet grew (or shrank) by `delta`.
  void AddStreamBufferedBytes(int64_t delta);
  void SetModelInfo(const std::string& model, const std::string& dtype, int64_t kv_blocks_total);
  // Engine events are ignored until this is called, so the server's own warm-up request does not
  // appear as a served request (dashboards and alerts count users' work only).
  void StartRecording() { recording_.store(true, std::memory_order_release); }

  prometheus::Registry& registry() { return *registry_; }

 private:
  bool recording() const { return recording_.load(std::memory_order_acquire); }

  std::atomic<bool> recording_{false};
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string exposer_host_;  // the host part of the address it listens on

  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Histogram& time_to_first_token_;
  prometheus::Histogram& inter_token_latency_;
  prometheus::Histogram& request_duration_;
  prometheus::Histogram& queue_wait_;
  prometheus::Counter& prompt_tokens_;
  prometheus::Counter& generated_tokens_;
  prometheus::Gauge& running_;
  prometheus::Gauge& waiting_;
  prometheus::Histogram& step_tokens_;
  prometheus::Histogram& step_duration_;
  prometheus::Gauge& kv_blocks_used_;
  prometheus::Gauge& kv_blocks_total_;
  prometheus::Counter& preemptions_;
  prometheus::Counter& prefix_queried_tokens_;
  prometheus::Counter& prefix_hit_tokens_;
  prometheus::Gauge& prefix_blocks_;
  prometheus::Counter& prefix_evictions_;
  std::atomic<int64_t> evictions_seen_{0};  // the engine's running total at the last step
  prometheus::Counter& slow_readers_;
  prometheus::Gauge& stream_buffered_bytes_;
  prometheus::Family<prometheus::Gauge>& model_info_;
};

}  // namespace ember

#endif  // EMBER_SERVER_METRICS_H_
