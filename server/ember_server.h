// The ember server process: gRPC service + health + metrics around one Engine.
//
// Start order: metrics endpoint, gRPC server (health NOT_SERVING, generation calls UNAVAILABLE),
// the HTTP API (503 until ready), then the model is loaded and warmed up, then readiness turns
// SERVING on both.
//
// Shutdown (the drain) waits for work, not for connections:
//   1. readiness NOT_SERVING and new calls UNAVAILABLE (HTTP: 503) at once;
//   2. in-flight requests run up to the drain grace; when it passes, the rest are cancelled
//      through the engine, so each stream still gets its final message (finish reason cancelled,
//      usage, timings) and then UNAVAILABLE;
//   3. generation calls (gRPC and HTTP) get until the grace (or a short wait after it) to write
//      their output; HTTP streams still open then are cut off and the HTTP port closed;
//   4. then whatever is still open (health Watches, idle connections, a reader that never reads)
//      is cancelled and the connections closed, and the engine stops.
#ifndef EMBER_SERVER_EMBER_SERVER_H_
#define EMBER_SERVER_EMBER_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/engine/engine.h"
#include "grpcpp/server.h"
#include "server/event_relay.h"
#include "server/generation_service.h"
#include "server/health.h"
#include "server/http/http_server.h"
#include "server/in_flight_calls.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace ember {

class EmberServer {
 public:
  // Binds the ports, loads and warms up the model, and starts serving. Errors name what failed
  // (address in use, model directory problems, ...).
  static absl::StatusOr<std::unique_ptr<EmberServer>> Start(const ServerOptions& options);

  // Drains (see above) if Shutdown was not called.
  ~EmberServer();

  // Graceful shutdown; returns when every RPC has ended. Idempotent.
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_->port(); }
  // The HTTP API's port, or 0 when it is off (ServerOptions::http_address empty).
  int http_port() const { return http_ == nullptr ? 0 : http_->port(); }
  Engine& engine() { return *engine_; }
  Metrics& metrics() { return *metrics_; }
  HealthReporter& health() { return *health_; }

 private:
  explicit EmberServer(const ServerOptions& options);
  absl::Status StartGrpc();
  absl::Status LoadModel();
  // The model's chat template for the HTTP API, or why chat requests are refused.
  absl::StatusOr<chat::ChatTemplate> LoadChatTemplate() const;

  const ServerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  // Declared before the engine and the gRPC server: both post to the relay until they are gone.
  std::unique_ptr<EventRelay> relay_;
  InFlightCalls generation_calls_;
  std::unique_ptr<GenerationService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<http::HttpServer> http_;  // null when the HTTP API is off
  std::unique_ptr<HealthReporter> health_;
  std::unique_ptr<Engine> engine_;
  int grpc_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace ember

#endif  // EMBER_SERVER_EMBER_SERVER_H_
