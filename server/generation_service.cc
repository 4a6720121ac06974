#include "server/generation_service.h"

#include <chrono>

#include "server/auth.h"
#include "server/generate_reactors.h"
#include "server/status_mapping.h"

namespace ember {

GenerationService::GenerationService(const ServerOptions& options, Metrics* metrics)
    : options_(options), metrics_(metrics) {}

void GenerationService::SetEngine(Engine* engine, const std::string& model_name) {
  limits_.model_name = model_name;
  limits_.vocab_size = engine->model_info().vocab_size;
  limits_.max_new_tokens_limit = options_.engine.max_new_tokens_limit;
  limits_.max_stop_strings = options_.max_stop_strings;
  limits_.max_stop_string_bytes = options_.max_stop_string_bytes;
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
    grpc::CallbackServerContext* context, const ember::v1::GenerateRequest& request) const {
  absl::StatusOr<GenerationRequest> out = ToGenerationRequest(request, limits_);
  if (!out.ok()) return out;
  const auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    out->deadline = absl::FromChrono(deadline);
  }
  return out;
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

grpc::ServerUnaryReactor* GenerationService::Generate(grpc::CallbackServerContext* context,
                                                      const ember::v1::GenerateRequest* request,
                                                      ember::v1::GenerateResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "Generate", engine.status());
  absl::StatusOr<GenerationRequest> converted = Convert(context, *request);
  if (!converted.ok()) return FinishNow(context, "Generate", converted.status());
  return StartUnaryGenerate(context, std::move(*converted), response, request->return_token_ids(),
                            *engine, metrics_, options_, limits_.model_name);
}

grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>* GenerationService::GenerateStream(
    grpc::CallbackServerContext* context, const ember::v1::GenerateRequest* request) {
  absl::StatusOr<Engine*> engine = Ready(context);
  absl::StatusOr<GenerationRequest> converted =
      engine.ok() ? Convert(context, *request) : absl::StatusOr<GenerationRequest>(engine.status());
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
  return StartStreamGenerate(context, std::move(*converted), *engine, metrics_, options_);
}

grpc::ServerUnaryReactor* GenerationService::Tokenize(grpc::CallbackServerContext* context,
                                                      const ember::v1::TokenizeRequest* request,
                                                      ember::v1::TokenizeResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "Tokenize", engine.status());
  if (!request->model().empty() && request->model() != limits_.model_name) {
    return FinishNow(context, "Tokenize",
                     absl::NotFoundError("model: \"" + request->model() + "\" is not served here"));
  }
  const size_t bad = FindInvalidUtf8Offset(request->text());
  if (bad != absl::string_view::npos) {
    return FinishNow(
        context, "Tokenize",
        absl::InvalidArgumentError("text: not valid UTF-8 at byte " + std::to_string(bad)));
  }
  const Tokenizer& tokenizer = (*engine)->tokenizer();
  auto ids = tokenizer.Encode(request->text(), request->add_special_tokens());
  if (!ids.ok()) return FinishNow(context, "Tokenize", ids.status());
  for (int32_t id : *ids) {
    response->add_token_ids(id);
    response->add_tokens(tokenizer.IdToToken(id));
  }
  return FinishNow(context, "Tokenize", absl::OkStatus());
}

grpc::ServerUnaryReactor* GenerationService::ListModels(
    grpc::CallbackServerContext* context, const ember::v1::ListModelsRequest* /*request*/,
    ember::v1::ListModelsResponse* response) {
  absl::StatusOr<Engine*> engine = Ready(context);
  if (!engine.ok()) return FinishNow(context, "ListModels", engine.status());
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
  response->set_default_model(limits_.model_name);
  return FinishNow(context, "ListModels", absl::OkStatus());
}

}  // namespace ember
