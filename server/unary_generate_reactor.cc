// Unary Generate: collects the request's events on the relay thread and answers once, with the
// whole generation, when the final event has arrived and Submit has returned.
#include <memory>
#include <utility>
#include <vector>

#include "server/generate_reactors.h"
#include "server/request_conversion.h"
#include "server/request_lifecycle.h"
#include "server/status_mapping.h"

namespace ember {
namespace {

class UnaryGenerateReactor;

// Shared by the reactor and its engine callback; used on the relay thread only.
struct UnaryCall {
  UnaryGenerateReactor* reactor = nullptr;  // null once OnDone ran
  RequestLifecycle request;
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<SampledToken> logprobs;
  std::vector<SampledToken> prompt_logprobs;
  GenerationEvent final_event;  // valid once the request has ended
};

class UnaryGenerateReactor : public grpc::ServerUnaryReactor {
 public:
  UnaryGenerateReactor(grpc::CallbackServerContext* context, ember::v1::GenerateResponse* response,
                       bool return_token_ids, const GenerationCallDeps& deps,
                       std::string request_id)
      : context_(context),
        response_(response),
        return_token_ids_(return_token_ids),
        deps_(deps),
        request_id_(std::move(request_id)),
        call_(std::make_shared<UnaryCall>()) {
    call_->reactor = this;
    deps_.calls->Begin();
  }

  // Handler thread.
  void Start(GenerationRequest request) { SubmitThroughRelay(call_, deps_, std::move(request)); }

  void OnCancel() override { CancelThroughRelay(call_, deps_, context_); }

  void OnDone() override {
    deps_.relay->Post([call = call_] {
      UnaryGenerateReactor* reactor = call->reactor;
      call->reactor = nullptr;
      reactor->deps_.calls->End();
      delete reactor;
    });
  }

  // Relay thread (SubmitThroughRelay): collects the output; answers once the request has ended.
  void OnEvent(GenerationEvent e) {
    UnaryCall& call = *call_;
    call.tokens.insert(call.tokens.end(), e.tokens.begin(), e.tokens.end());
    call.text += e.text;
    for (SampledToken& s : e.logprobs) call.logprobs.push_back(std::move(s));
    if (!e.prompt_logprobs.empty()) call.prompt_logprobs = std::move(e.prompt_logprobs);
    if (!e.finished) return;
    call.final_event = std::move(e);
    call.request.Ended();
    if (call.request.complete()) Complete();
  }

  void OnSubmitted(const absl::StatusOr<RequestHandle>& id) {
    if (!id.ok()) {
      call_->request.Refused();
      const grpc::Status status = ToGrpcStatus(id.status());
      if (deps_.metrics != nullptr) deps_.metrics->OnRpcFinished("Generate", status.error_code());
      Finish(status);
      return;
    }
    if (call_->request.Submitted(*id)) deps_.engine->Cancel(*id, CancelReason(context_));
    if (call_->request.complete()) Complete();  // the final event came first
  }

 private:
  // Fills the response from the final event and finishes the RPC (once: the lifecycle reaches
  // kEnded once).
  void Complete() {
    const GenerationEvent& e = call_->final_event;
    response_->set_text(call_->text);
    if (return_token_ids_) {
      response_->mutable_token_ids()->Add(call_->tokens.begin(), call_->tokens.end());
    }
    response_->set_finish_reason(ToProtoFinishReason(e.finish_reason));
    FillUsageAndTimings(e.timings, response_->mutable_usage(), response_->mutable_timings());
    const Tokenizer& tokenizer = deps_.engine->tokenizer();
    for (const SampledToken& s : call_->logprobs) {
      AppendLogprobs(s, tokenizer, response_->mutable_logprobs());
    }
    for (const SampledToken& s : call_->prompt_logprobs) {
      AppendLogprobs(s, tokenizer, response_->mutable_prompt_logprobs());
    }
    AppendHypotheses(e.hypotheses, return_token_ids_, response_->mutable_hypotheses());
    response_->set_model(deps_.model_name);
    const grpc::Status status = FinalStatus(e.finish_reason, e.error);
    if (deps_.metrics != nullptr) deps_.metrics->OnRpcFinished("Generate", status.error_code());
    if (deps_.options->log_requests) {
      LogRequest("Generate", call_->request.id(), request_id_, status, e.finish_reason, e.timings);
    }
    Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  ember::v1::GenerateResponse* const response_;
  const bool return_token_ids_;
  const GenerationCallDeps deps_;
  const std::string request_id_;
  std::shared_ptr<UnaryCall> call_;
};

}  // namespace

grpc::ServerUnaryReactor* StartUnaryGenerate(grpc::CallbackServerContext* context,
                                             GenerationRequest request,
                                             ember::v1::GenerateResponse* response,
                                             bool return_token_ids,
                                             const GenerationCallDeps& deps) {
  std::string request_id = request.request_id;
  auto* reactor =
      new UnaryGenerateReactor(context, response, return_token_ids, deps, std::move(request_id));
  reactor->Start(std::move(request));
  return reactor;
}

}  // namespace ember
