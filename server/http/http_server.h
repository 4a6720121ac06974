// ember's OpenAI-compatible HTTP API (docs/HTTP_API.md): the same engine as the gRPC service,
// behind cpp-httplib.
//
// Threads: cpp-httplib serves each connection on one thread of its pool (--http_threads); a
// generation request holds that thread while it runs, waiting on its GenerationCall (which never
// blocks the engine) and writing server-sent events as they come.
//
// Same guarantees as the gRPC port: the bearer token (ServerOptions::auth_token) on every
// endpoint but /health, TLS with the same certificate (and client CA), the slow-reader limits, the
// drain (StopAccepting, then the shared InFlightCalls count, then AbortCalls), and the metrics
// (ember_rpcs_total{protocol="http"} beside the engine's own).
#ifndef EMBER_SERVER_HTTP_HTTP_SERVER_H_
#define EMBER_SERVER_HTTP_HTTP_SERVER_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/chat/chat_template.h"
#include "core/engine/engine.h"
#include "httplib.h"
#include "server/http/http_errors.h"
#include "server/in_flight_calls.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace ember::http {

class GenerationCall;

class HttpServer {
 public:
  // Binds options.http_address and starts serving; until SetModel, every API call gets 503.
  // `metrics` and `calls` must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                           Metrics* metrics, InFlightCalls* calls);
  // Stops (Stop) if not stopped.
  ~HttpServer();

  // The model is loaded: serve it under `model_name`. `chat_template`: the model's template, or
  // the reason chat is refused (no template; a template using what the renderer lacks).
  void SetModel(Engine* engine, std::string model_name,
                absl::StatusOr<chat::ChatTemplate> chat_template);
  // The drain began: new API calls get 503, /health 503; running ones continue.
  void StopAccepting();
  // The drain's end: calls still open (a stream to a reader that does not read) are cut off.
  void AbortCalls();
  // Stops listening and closes every connection; returns once no handler runs. Idempotent.
  void Stop();

  int port() const { return port_; }

 private:
  // What handlers read, replaced as a whole (SetModel) and shared by the calls using it.
  struct Serving {
    Engine* engine = nullptr;
    std::string model_name;
    absl::StatusOr<chat::ChatTemplate> chat_template = absl::UnavailableError("");
  };

  HttpServer(const ServerOptions& options, Metrics* metrics, InFlightCalls* calls);
  void Route();
  // The model, or UNAVAILABLE while loading or draining.
  absl::StatusOr<std::shared_ptr<const Serving>> CurrentServing() const;
  bool Authorized(const httplib::Request& request, httplib::Response& response);

  // Handlers (generation_handler.cc, utility_handlers.cc).
  void HandleGeneration(const httplib::Request& request, httplib::Response& response, Api api);
  void HandleModels(const httplib::Request& request, httplib::Response& response);
  void HandleTokenize(const httplib::Request& request, httplib::Response& response);
  void HandleDetokenize(const httplib::Request& request, httplib::Response& response);
  void HandleHealth(const httplib::Request& request, httplib::Response& response);

  // Answers `status` (not OK) as an OpenAI error body and counts the call.
  void ReplyError(const char* method, const absl::Status& status, httplib::Response& response);
  void ReplyJson(const char* method, std::string body, httplib::Response& response);
  void CountCall(const char* method, absl::StatusCode code);

  void Register(GenerationCall* call);
  void Unregister(GenerationCall* call);

  const ServerOptions options_;
  Metrics* const metrics_;
  InFlightCalls* const calls_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Serving> serving_ ABSL_GUARDED_BY(mu_);
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::set<GenerationCall*> open_calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_HTTP_SERVER_H_
