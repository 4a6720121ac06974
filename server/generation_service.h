// The ember.v1.Generation gRPC service (callback API). It adapts gRPC to the engine: validate and
// convert the request, Submit it, turn engine events into responses, map cancellation and
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
#include "server/metrics.h"
#include "server/request_conversion.h"
#include "server/request_parsing.h"
#include "server/server_options.h"

namespace ember {

class GenerationService final : public ember::v1::Generation::Service {
 public:
  GenerationService(const ServerOptions& options, Metrics* metrics);

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
  grpc::ServerUnaryReactor* HandleListModels(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::ListModelsRequest>& request,
      ember::v1::ListModelsResponse* response);

  // The engine, or a status explaining why this call cannot be served now (UNAUTHENTICATED
  // without the configured bearer token, UNAVAILABLE while loading or draining).
  absl::StatusOr<Engine*> Ready(const grpc::CallbackServerContext* context) const;
  // Parsing, the deadline, validation and conversion, in that order. DEADLINE_EXCEEDED when the
  // call's deadline has already passed (by the engine's clock): such a request is never queued.
  absl::StatusOr<GenerationRequest> Convert(
      grpc::CallbackServerContext* context,
      const CheckedRequest<ember::v1::GenerateRequest>& request) const;
  grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const char* method,
                                      const absl::Status& status);

  const ServerOptions options_;
  Metrics* metrics_;
  std::atomic<Engine*> engine_{nullptr};
  std::atomic<bool> accepting_{true};
  RequestLimits limits_;
};

}  // namespace ember

#endif  // EMBER_SERVER_GENERATION_SERVICE_H_
