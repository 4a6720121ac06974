// Streaming GenerateStream: each engine event becomes stream output, written one message at a
// time; output that queues behind a write in flight is coalesced, so a slow reader costs bytes,
// not messages, and the bytes are capped.
//
// Everything here after Submit runs on the relay thread (see generate_reactors.h), so StreamCall
// needs no lock.
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "core/util/logging.h"
#include "grpcpp/alarm.h"
#include "server/generate_reactors.h"
#include "server/request_conversion.h"
#include "server/request_lifecycle.h"
#include "server/status_mapping.h"

namespace ember {
namespace {

class StreamGenerateReactor;

// The call's output side. Transitions, each made in the one function named:
//   kIdle              -> kWriting   Pump: a message is pending
//   kWriting           -> kIdle      OnWriteDone(ok)
//   kIdle | kWriting   -> kBroken    OnWriteDone(!ok): the client is gone; nothing more is written
//   kIdle | kBroken    -> kFinished  Pump: the request has ended and nothing is left to write
//   kIdle              -> kFinished  OnSubmitted: Submit refused the request
enum class OutputPhase { kIdle, kWriting, kBroken, kFinished };

// Shared by the reactor, its engine callback and its stall alarm; used on the relay thread only.
struct StreamCall {
  StreamCall(Metrics* m, int64_t cap, absl::Duration stall)
      : metrics(m), max_buffer_bytes(cap), stall_timeout(stall) {}

  // Keeps the server-wide gauge equal to the sum of every stream's pending_bytes.
  void AddPending(int64_t delta) {
    pending_bytes += delta;
    if (metrics != nullptr && delta != 0) metrics->AddStreamBufferedBytes(delta);
  }
  void DropPending() {
    pending.clear();
    AddPending(-pending_bytes);
  }
  bool StallLimited() const {
    return stall_timeout > absl::ZeroDuration() && stall_timeout != absl::InfiniteDuration();
  }

  Metrics* const metrics;  // may be null
  const int64_t max_buffer_bytes;
  const absl::Duration stall_timeout;
  StreamGenerateReactor* reactor = nullptr;  // null once OnDone ran
  RequestLifecycle request;
  OutputPhase output = OutputPhase::kIdle;
  // Messages not yet written; the front one is being written while kWriting.
  std::deque<ember::v1::GenerateStreamResponse> pending;
  int64_t pending_bytes = 0;
  absl::Time write_started;  // when the write in flight began
  // Why the server cut the stream off (slow reader), which overrides the request's own outcome.
  std::optional<grpc::Status> cut_off;
  // The request's outcome, once it has ended.
  grpc::Status final_status;
  FinishReason reason = FinishReason::kNone;
  RequestTimings timings;
  // Armed when the request ends: resets the call if the client has not taken the rest of the
  // stream within the stall timeout. Destroyed (so cancelled) when the reactor is done.
  std::unique_ptr<grpc::Alarm> stall_alarm;
};

class StreamGenerateReactor : public grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse> {
 public:
  StreamGenerateReactor(grpc::CallbackServerContext* context, const GenerationCallDeps& deps,
                        std::string request_id)
      : context_(context),
        deps_(deps),
        request_id_(std::move(request_id)),
        call_(std::make_shared<StreamCall>(deps.metrics, deps.options->max_stream_buffer_bytes,
                                           deps.options->stream_stall_timeout)) {
    call_->reactor = this;
    deps_.calls->Begin();
  }

  // Handler thread.
  void Start(GenerationRequest request) { SubmitThroughRelay(call_, deps_, std::move(request)); }

  void OnCancel() override { CancelThroughRelay(call_, deps_, context_); }

  void OnWriteDone(bool ok) override {
    deps_.relay->Post([call = call_, ok] {
      if (call->reactor != nullptr) call->reactor->WriteDone(ok);
    });
  }

  void OnDone() override {
    deps_.relay->Post([call = call_] {
      StreamGenerateReactor* reactor = call->reactor;
      call->reactor = nullptr;
      call->DropPending();
      call->stall_alarm.reset();  // cancels it; its callback then runs with fired == false
      reactor->deps_.calls->End();
      delete reactor;
    });
  }

  // Relay thread (SubmitThroughRelay).
  void OnSubmitted(const absl::StatusOr<RequestHandle>& id) {
    if (!id.ok()) {
      call_->request.Refused();
      call_->output = OutputPhase::kFinished;
      const grpc::Status status = ToGrpcStatus(id.status());
      if (deps_.metrics != nullptr) {
        deps_.metrics->OnRpcFinished("GenerateStream", status.error_code());
      }
      Finish(status);
      return;
    }
    if (call_->request.Submitted(*id)) deps_.engine->Cancel(*id, CancelReason(context_));
    Pump();
  }

  // Queues the event's output (coalescing behind a write in flight), enforces the slow-reader
  // limits (buffered bytes, stalled write), and writes if no write is in flight.
  void OnEvent(GenerationEvent e) {
    StreamCall& call = *call_;
    if (call.output != OutputPhase::kBroken && call.output != OutputPhase::kFinished) {
      const bool can_coalesce = call.pending.size() >= 2 ||
                                (call.pending.size() == 1 && call.output == OutputPhase::kIdle);
      if (!can_coalesce) call.pending.emplace_back();
      ember::v1::GenerateStreamResponse& m = call.pending.back();
      const int64_t before = static_cast<int64_t>(m.ByteSizeLong());
      m.mutable_text()->append(e.text);
      m.mutable_token_ids()->Add(e.tokens.begin(), e.tokens.end());
      const Tokenizer& tokenizer = deps_.engine->tokenizer();
      for (const SampledToken& s : e.logprobs) AppendLogprobs(s, tokenizer, m.mutable_logprobs());
      for (const SampledToken& s : e.prompt_logprobs) {
        AppendLogprobs(s, tokenizer, m.mutable_prompt_logprobs());
      }
      if (e.finished) {
        m.set_finish_reason(ToProtoFinishReason(e.finish_reason));
        FillUsageAndTimings(e.timings, m.mutable_usage(), m.mutable_timings());
        AppendHypotheses(e.hypotheses, /*with_token_ids=*/true, m.mutable_hypotheses());
      }
      call.AddPending(static_cast<int64_t>(m.ByteSizeLong()) - before);
      const bool over_cap = call.pending_bytes > call.max_buffer_bytes;
      const bool stalled = call.output == OutputPhase::kWriting && call.StallLimited() &&
                           absl::Now() - call.write_started > call.stall_timeout;
      if (!e.finished && !call.cut_off.has_value() && (over_cap || stalled)) {
        call.cut_off = grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            over_cap ? "the client did not read the stream: its buffer passed the server's "
                       "--max_stream_buffer_bytes and the request was cancelled"
                     : "the client did not read the stream for the server's "
                       "--stream_stall_timeout_seconds and the request was cancelled");
        if (deps_.metrics != nullptr) deps_.metrics->OnSlowReaderCancelled();
        if (call.request.running()) deps_.engine->Cancel(call.request.id());
      }
    }
    if (e.finished) {
      call.request.Ended();
      call.reason = e.finish_reason;
      call.timings = e.timings;
      call.final_status = FinalStatus(e.finish_reason, e.error);
      ArmStallAlarm();
    }
    Pump();
  }

 private:
  void WriteDone(bool ok) {
    StreamCall& call = *call_;
    if (!call.pending.empty()) {
      call.AddPending(-static_cast<int64_t>(call.pending.front().ByteSizeLong()));
      call.pending.pop_front();
    }
    if (ok) {
      call.output = OutputPhase::kIdle;
    } else {
      call.output = OutputPhase::kBroken;
      call.DropPending();
    }
    Pump();
  }

  // Starts the next write, or finishes the RPC once the request has ended and its output is out
  // (or writes broke).
  void Pump() {
    StreamCall& call = *call_;
    const RequestLifecycle::Phase phase = call.request.phase();
    // Nothing is written before Submit has returned: the call's id is needed to cut it off.
    if (phase == RequestLifecycle::Phase::kSubmitting ||
        phase == RequestLifecycle::Phase::kCancelPending ||
        phase == RequestLifecycle::Phase::kEndedEarly) {
      return;
    }
    if (call.output == OutputPhase::kIdle && !call.pending.empty()) {
      call.output = OutputPhase::kWriting;
      call.write_started = absl::Now();
      StartWrite(&call.pending.front());  // deque references survive push_back
      return;
    }
    if ((call.output == OutputPhase::kIdle || call.output == OutputPhase::kBroken) &&
        call.request.complete()) {
      call.output = OutputPhase::kFinished;
      const grpc::Status status = call.cut_off.value_or(call.final_status);
      if (deps_.metrics != nullptr) {
        deps_.metrics->OnRpcFinished("GenerateStream", status.error_code());
      }
      if (deps_.options->log_requests) {
        LogRequest("GenerateStream", call.request.id(), request_id_, status, call.reason,
                   call.timings);
      }
      Finish(status);
    }
  }

  // The request has ended; its stream must be delivered within the stall timeout.
  void ArmStallAlarm() {
    if (!call_->StallLimited()) return;
    call_->stall_alarm = std::make_unique<grpc::Alarm>();
    EventRelay* relay = deps_.relay;
    call_->stall_alarm->Set(absl::ToChronoTime(absl::Now() + call_->stall_timeout),
                            [call = call_, relay](bool fired) {
                              if (!fired) return;
                              relay->Post([call] {
                                if (call->reactor != nullptr) call->reactor->ResetStalled();
                              });
                            });
  }

  // The stall timeout passed with the stream unfinished: the client is not taking its output, and
  // even the final status would wait behind it. Cancelling the call (RST_STREAM; the client sees
  // CANCELLED) frees it and its buffer: the write in flight then fails, and Pump finishes.
  void ResetStalled() {
    StreamCall& call = *call_;
    if (call.output == OutputPhase::kFinished) return;
    if (!call.cut_off.has_value() && deps_.metrics != nullptr) {
      deps_.metrics->OnSlowReaderCancelled();
    }
    call.cut_off = grpc::Status(grpc::StatusCode::CANCELLED,
                                "the client did not read the stream for the server's "
                                "--stream_stall_timeout_seconds: the call was reset");
    EMBER_LOG(WARNING) << "GenerateStream engine_id=" << call.request.id()
                       << ": the client took no output for the stall timeout; resetting the call";
    context_->TryCancel();
  }

  grpc::CallbackServerContext* const context_;
  const GenerationCallDeps deps_;
  const std::string request_id_;
  std::shared_ptr<StreamCall> call_;
};

}  // namespace

grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>* StartStreamGenerate(
    grpc::CallbackServerContext* context, GenerationRequest request,
    const GenerationCallDeps& deps) {
  std::string request_id = request.request_id;
  auto* reactor = new StreamGenerateReactor(context, deps, std::move(request_id));
  reactor->Start(std::move(request));
  return reactor;
}

}  // namespace ember
