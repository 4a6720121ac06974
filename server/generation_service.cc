#include "server/generation_service.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/engine/clock.h"
#include "core/engine/request_validation.h"
#include "server/auth.h"
#include "server/generate_reactors.h"
#include "server/status_mapping.h"

namespace ember {

namespace {

// The position of `method` in the Generation service, which is the index gRPC's generated code
// registers it under.
int MethodIndex(const char* method) {
  const google::protobuf::ServiceDescriptor* service =
      ember::v1::GenerateRequest::descriptor()->file()->FindServiceByName("Generation");
  return service->FindMethodByName(method)->index();
}

}  // namespace

GenerationService::GenerationService(const ServerOptions& options, Metrics* metrics,
                                     EventRelay* relay, InFlightCalls* calls)
    : options_(options), metrics_(metrics) {
  call_deps_.metrics = metrics;
  call_deps_.relay = relay;
  call_deps_.calls = calls;
  call_deps_.options = &options_;
  // The generated WithCallbackMethod_* classes register handlers the same way, with the public
  // message types; these take CheckedRequests instead (see request_parsing.h). Registering every
  // method also replaces the base Service's synchronous handlers, which are never used.
  using ember::v1::DetokenizeRequest;
  using ember::v1::GenerateRequest;
  using ember::v1::ListModelsRequest;
  using ember::v1::TokenizeRequest;
  MarkMethodCallback(MethodIndex("Generate"),
                     new grpc::internal::CallbackUnaryHandler<CheckedRequest<GenerateRequest>,
                                                              ember::v1::GenerateResponse>(
                         [this](grpc::CallbackServerContext* context,
                                const CheckedRequest<GenerateRequest>* request,
                                ember::v1::GenerateResponse* response) {
                           return HandleGenerate(context, *request, response);
                         }));
  MarkMethodCallback(
      MethodIndex("GenerateStream"),
      new grpc::internal::CallbackServerStreamingHandler<CheckedRequest<GenerateRequest>,
                                                         ember::v1::GenerateStreamResponse>(
          [this](grpc::CallbackServerContext* context,
                 const CheckedRequest<GenerateRequest>* request) {
            return HandleGenerateStream(context, *request);
          }));
  MarkMethodCallback(MethodIndex("Tokenize"),
                     new grpc::internal::CallbackUnaryHandler<CheckedRequest<TokenizeRequest>,
                                                              ember::v1::TokenizeResponse>(
                         [this](grpc::CallbackServerContext* context,
                                const CheckedRequest<TokenizeRequest>* request,
                                ember::v1::TokenizeResponse* response) {
                           return HandleTokenize(context, *request, response);
                         }));
  MarkMethodCallback(MethodIndex("Detokenize"),
                     new grpc::internal::CallbackUnaryHandler<CheckedRequest<DetokenizeRequest>,
                                                              ember::v1::DetokenizeResponse>(
                         [this](grpc::CallbackServerContext* context,
                                const CheckedRequest<DetokenizeRequest>* request,
                                ember::v1::DetokenizeResponse* response) {
                           return HandleDetokenize(context, *request, response);
                         }));
  MarkMethodCallback(MethodIndex("ListModels"),
                     new grpc::internal::CallbackUnaryHandler<CheckedRequest<ListModelsRequest>,
                                                              ember::v1::ListModelsResponse>(
                         [this](grpc::CallbackServerContext* context,
                                const CheckedRequest<ListModelsRequest>* request,
                                ember::v1::ListModelsResponse* response) {
                           return HandleListModels(context, *request, response);
                         }));
}

void GenerationService::SetEngine(Engine* engine, const std::string& model_name) {
  limits_.model_name = model_name;
  limits_.vocab_size = engine->model_info().vocab_size;
  call_deps_.engine = engine;
  call_deps_.model_name = model_name;
  engine_.store(engine, std::memory_order_release);  // publishes limits_
}

absl::StatusOr<Engine*> GenerationService::Ready(const grpc::CallbackServerContext* context) const {
  // Authentication first: an unauthenticated caller learns nothing about the server's state.
  if (absl::Status auth = CheckBearerToken(*context, options_.auth_token); !auth.ok()) return auth;
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return absl::UnavailableError("the model is still loading; retry shortly");
  if (!accepting_.load()) return absl::UnavailableError("the server is shutting down");
  return engine;
}

absl::StatusOr<GenerationRequest> GenerationService::Convert(
    grpc::CallbackServerContext* context,
    const CheckedRequest<ember::v1::GenerateRequest>& request) const {
  if (!request.status.ok()) return request.status;
  std::optional<absl::Time> deadline;
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    deadline = absl::FromChrono(context->deadline());
    // Nobody waits for the answer, so refuse before anything costly (the engine tokenizes at
    // Submit, where it checks the deadline again by the same clock).
    const Clock* clock = options_.engine.clock != nullptr ? options_.engine.clock : Clock::Real();
    if (*deadline <= clock->Now()) {
      return absl::DeadlineExceededError(
          "the call's deadline passed before the request could start; it was not queued");
    }
  }
  absl::StatusOr<GenerationRequest> out = ToGenerationRequest(request.message, limits_.model_name);
  if (!out.ok()) return out;
  out->deadline = deadline;
  return out;
}

absl::Status GenerationService::CheckServed(const std::string& model) const {
  if (model.empty() || model == limits_.model_name) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("model: \"", model, "\" is not served here (serving \"",
                                          limits_.model_name, "\")"));
}

grpc::ServerUnaryReactor* GenerationService::FinishNow(grpc::CallbackServerContext* context,
                                                       const char* method,
                                                       const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const grpc::Status s = ToGrpcStatus(status);
  if (metrics_ != nullptr) metrics_->OnRpcFinished(method, s.error_code());
  reactor->Finish(s);
  return reactor;
}

grpc::ServerUnaryReactor* GenerationService::HandleGenerate(
    grpc::CallbackServerContext* context, const CheckedRequest<ember::v1::GenerateRequest>& request,
    ember::v1::GenerateResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "Generate", engine.status());
  absl::StatusOr<GenerationRequest> converted = Convert(context, request);
  if (!converted.ok()) return FinishNow(context, "Generate", converted.status());
  return StartUnaryGenerate(context, std::move(*converted), response,
                            request.message.return_token_ids(), call_deps_);
}

grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>*
GenerationService::HandleGenerateStream(grpc::CallbackServerContext* context,
                                        const CheckedRequest<ember::v1::GenerateRequest>& request) {
  absl::StatusOr<Engine*> engine = Ready(context);
  absl::StatusOr<GenerationRequest> converted =
      engine.ok() ? Convert(context, request) : absl::StatusOr<GenerationRequest>(engine.status());
  if (!converted.ok()) {
    // A reactor that only reports the error.
    class ErrorReactor : public grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse> {
     public:
      explicit ErrorReactor(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    const grpc::Status s = ToGrpcStatus(converted.status());
    if (metrics_ != nullptr) metrics_->OnRpcFinished("GenerateStream", s.error_code());
    return new ErrorReactor(s);
  }
  return StartStreamGenerate(context, std::move(*converted), call_deps_);
}

grpc::ServerUnaryReactor* GenerationService::HandleTokenize(
    grpc::CallbackServerContext* context, const CheckedRequest<ember::v1::TokenizeRequest>& checked,
    ember::v1::TokenizeResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "Tokenize", engine.status());
  // Refused by ParseRequest, e.g. `text` not UTF-8: the tokenizer only ever sees valid UTF-8.
  if (!checked.status.ok()) return FinishNow(context, "Tokenize", checked.status);
  const ember::v1::TokenizeRequest& request = checked.message;
  if (absl::Status served = CheckServed(request.model()); !served.ok()) {
    return FinishNow(context, "Tokenize", served);
  }
  const Tokenizer& tokenizer = (*engine)->tokenizer();
  auto ids = tokenizer.Encode(request.text(), request.add_special_tokens());
  if (!ids.ok()) return FinishNow(context, "Tokenize", ids.status());
  for (int32_t id : *ids) {
    response->add_token_ids(id);
    response->add_tokens(tokenizer.IdToToken(id));
  }
  return FinishNow(context, "Tokenize", absl::OkStatus());
}

grpc::ServerUnaryReactor* GenerationService::HandleDetokenize(
    grpc::CallbackServerContext* context,
    const CheckedRequest<ember::v1::DetokenizeRequest>& checked,
    ember::v1::DetokenizeResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "Detokenize", engine.status());
  if (!checked.status.ok()) return FinishNow(context, "Detokenize", checked.status);
  const ember::v1::DetokenizeRequest& request = checked.message;
  if (absl::Status served = CheckServed(request.model()); !served.ok()) {
    return FinishNow(context, "Detokenize", served);
  }
  const Tokenizer& tokenizer = (*engine)->tokenizer();
  // The same rule as GenerateRequest.prompt_token_ids: the model's vocabulary.
  const absl::Span<const int32_t> given(request.token_ids().data(),
                                        static_cast<size_t>(request.token_ids_size()));
  if (absl::Status valid = ValidateTokenIds("token_ids", given, (*engine)->model_info().vocab_size);
      !valid.ok()) {
    return FinishNow(context, "Detokenize", valid);
  }
  // Rows the model has past the tokenizer's vocabulary name no token: Hugging Face tokenizers
  // decode such ids to nothing, and so does this.
  std::vector<int32_t> ids;
  ids.reserve(given.size());
  for (int32_t id : given) {
    if (id < tokenizer.VocabSize()) ids.push_back(id);
  }
  absl::StatusOr<std::string> text = tokenizer.Decode(ids, request.skip_special_tokens());
  if (!text.ok()) return FinishNow(context, "Detokenize", text.status());
  response->set_text(*std::move(text));
  return FinishNow(context, "Detokenize", absl::OkStatus());
}

grpc::ServerUnaryReactor* GenerationService::HandleListModels(
    grpc::CallbackServerContext* context,
    const CheckedRequest<ember::v1::ListModelsRequest>& request,
    ember::v1::ListModelsResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "ListModels", engine.status());
  if (!request.status.ok()) return FinishNow(context, "ListModels", request.status);
  const ModelInfo& info = (*engine)->model_info();
  ember::v1::ModelInfo* m = response->add_models();
  m->set_name(limits_.model_name);
  m->set_architecture(info.architecture);
  m->set_model_type(info.model_type);
  m->set_context_length(static_cast<int32_t>(info.context_length));
  m->set_dtype(info.dtype);
  m->set_vocab_size(static_cast<int32_t>(info.vocab_size));
  for (int32_t eos : info.eos_token_ids) m->add_eos_token_ids(eos);
  m->set_kv_cache_blocks(info.kv_blocks);
  m->set_kv_block_size(static_cast<int32_t>(info.block_size));
  m->set_encoder_decoder(info.encoder_decoder);
  response->set_default_model(limits_.model_name);
  return FinishNow(context, "ListModels", absl::OkStatus());
}

}  // namespace ember
