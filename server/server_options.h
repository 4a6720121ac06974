// Everything the server needs to start. Flags bind into this in main.cc and nowhere else.
#ifndef EMBER_SERVER_SERVER_OPTIONS_H_
#define EMBER_SERVER_SERVER_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "core/engine/engine_options.h"

namespace ember {

struct ServerOptions {
  // The engine (model directory, threads, batching and KV-cache sizes).
  EngineOptions engine;
  // gRPC listen address, e.g. "0.0.0.0:50051" or "127.0.0.1:0" (0 picks a free port: see
  // EmberServer::grpc_port()).
  std::string grpc_address = "0.0.0.0:50051";
  // Prometheus /metrics listen address; empty disables the metrics endpoint. Port 0 picks a free
  // port (see EmberServer::metrics_port()).
  std::string metrics_address = "0.0.0.0:9090";
  // OpenAI-compatible HTTP API listen address (server/http/http_server.h), e.g. "0.0.0.0:8000";
  // port 0 picks a free port (EmberServer::http_port()). Empty: no HTTP API (ember_server's
  // --http_address flag defaults to 0.0.0.0:8000). Uses the gRPC port's TLS files and auth token.
  std::string http_address;
  // Threads serving HTTP connections: each open connection holds one while it is being served
  // (a streaming request for its whole length); connections beyond this wait to be served.
  int http_threads = 128;
  // SO_SNDBUF of each HTTP API connection, in bytes; 0: the kernel's (auto-tuned: on loopback it
  // grows to megabytes). Bounds the stream output the kernel holds for a client that does not read,
  // beside max_stream_buffer_bytes, which bounds what ember holds.
  int http_send_buffer_bytes = 0;
  // The model name clients use; empty: the model directory's base name.
  std::string model_name;
  // On shutdown, how long in-flight requests may run before they are cancelled.
  absl::Duration drain_grace = absl::Seconds(30);
  // A stream whose client does not read: pending output is coalesced into one message; once it
  // holds more than this many bytes the request is cancelled and the stream ends with
  // RESOURCE_EXHAUSTED. Bounds the memory a slow or stalled reader can pin.
  int64_t max_stream_buffer_bytes = int64_t{1} << 20;
  // A stream whose client accepts none of its output for this long is cut off: while the request
  // runs, it is cancelled as a slow reader; once it has ended, the call is reset (the client sees
  // CANCELLED: a status would wait behind the output it is not taking). Frees the call and its
  // buffered output. Zero or infinite: never (a stalled client then holds them until it reads or
  // disconnects).
  absl::Duration stream_stall_timeout = absl::Seconds(60);
  // Liveness (health service "liveness") turns NOT_SERVING when work is pending and the engine
  // loop has not completed a step for this long.
  absl::Duration stall_timeout = absl::Seconds(60);
  // Largest request message accepted, in bytes.
  int max_receive_message_bytes = 4 << 20;
  // Log one line per finished request (id, outcome, timings).
  bool log_requests = true;
  // TLS for the gRPC port: PEM certificate chain and private key files. Both empty: plaintext
  // (for loopback, a trusted network, or behind a TLS-terminating proxy).
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA bundle; when set, clients must present a certificate it signs (mutual TLS).
  std::string tls_client_ca_file;
  // When non-empty, every ember.v1.Generation call must carry `authorization: Bearer <token>`
  // or gets UNAUTHENTICATED. Health and reflection stay open: probes and tooling have no token.
  std::string auth_token;
  // Called on EmberServer::Start's thread once the gRPC port listens, before the model loads, with
  // the bound port (useful with port 0). Until the model is loaded and warm, readiness is
  // NOT_SERVING and every Generation call gets UNAVAILABLE; loading waits for this to return.
  // Empty: nothing is called.
  std::function<void(int grpc_port)> on_listening;
  // Connections older than this are closed gracefully (GOAWAY) so long-lived clients re-resolve
  // and spread over replicas added since. Zero or infinite: never.
  absl::Duration max_connection_age = absl::ZeroDuration();
};

}  // namespace ember

#endif  // EMBER_SERVER_SERVER_OPTIONS_H_
