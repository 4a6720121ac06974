// The ember.v1.Generation gRPC service (callback API). It adapts gRPC to the engine: convert the
// request, Submit it (which validates it), turn engine events into responses, map cancellation and
// deadlines back to the engine. Reactors never block: events are queued and written one at a time.
//
// Every method receives its request as a CheckedRequest (see request_parsing.h), so a string
// field that is not UTF-8, or bytes that are no message at all, are answered by ember with
// INVALID_ARGUMENT naming the field, instead of gRPC's empty UNIMPLEMENTED after protobuf's parser
// refused them. The handlers are registered in the constructor.
#ifndef EMBER_SERVER_GENERATION_SERVICE_H_
#define EMBER_SERVER_GENERATION_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "core/engine/engine.h"
#include "ember/v1/generation.grpc.pb.h"
#include "server/event_relay.h"
#include "server/generate_reactors.h"
#include "server/in_flight_calls.h"
#include "server/metrics.h"
#include "server/request_conversion.h"
#include "server/request_parsing.h"
#include "server/server_options.h"

namespace ember {

class GenerationService final : public ember::v1::Generation::Service {
 public:
  // `relay` runs the generation reactors' event handling; `calls` counts generation calls in
  // flight (for the drain). Both outlive the service's calls.
  GenerationService(const ServerOptions& options, Metrics* metrics, EventRelay* relay,
                    InFlightCalls* calls);

  // Called once the engine is loaded and warmed up: until then every call gets UNAVAILABLE.
  void SetEngine(Engine* engine, const std::string& model_name);
  // Draining: new calls get UNAVAILABLE; calls in flight continue.
  void StopAccepting() { accepting_.store(false); }

 private:
  grpc::ServerUnaryReactor* HandleGenerate(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::GenerateRequest>& request,
      ember::v1::GenerateResponse* response);
  grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>* HandleGenerateStream(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::GenerateRequest>& request);
  grpc::ServerUnaryReactor* HandleTokenize(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::TokenizeRequest>& request,
      ember::v1::TokenizeResponse* response);
  grpc::ServerUnaryReactor* HandleDetokenize(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::DetokenizeRequest>& request,
      ember::v1::DetokenizeResponse* response);
  grpc::ServerUnaryReactor* HandleListModels(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::ListModelsRequest>& request,
      ember::v1::ListModelsResponse* response);

  // The engine, or a status explaining why this call cannot be served now (UNAUTHENTICATED
  // without the configured bearer token, UNAVAILABLE while loading or draining).
  absl::StatusOr<Engine*> Ready(const grpc::CallbackServerContext* context) const;
  // Parsing, the deadline and conversion (NOT_FOUND for another model), in that order; the
  // request's content is validated by Engine::Submit. DEADLINE_EXCEEDED when the call's deadline
  // has already passed (by the engine's clock): such a request is never queued.
  absl::StatusOr<GenerationRequest> Convert(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::GenerateRequest>& request) const;
  // NOT_FOUND `model: ...` unless `model` is empty (the default) or the served model's name.
  absl::Status CheckServed(const std::string& model) const;
  grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const char* method,
                                      const absl::Status& status);

  const ServerOptions options_;
  Metrics* metrics_;
  std::atomic<Engine*> engine_{nullptr};
  std::atomic<bool> accepting_{true};
  // Set by SetEngine: the served model's name (NOT_FOUND for others) and vocabulary (Detokenize's
  // ids). GenerateRequest's rules are the engine's (core/engine/request_validation.h).
  struct ServedLimits {
    std::string model_name;
    int64_t vocab_size = 0;
  };
  ServedLimits limits_;
  GenerationCallDeps call_deps_;  // completed (engine, model name) by SetEngine
};

}  // namespace ember

#endif  // EMBER_SERVER_GENERATION_SERVICE_H_
