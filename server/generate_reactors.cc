#include "server/generate_reactors.h"

#include <chrono>
#include <deque>
#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/util/logging.h"
#include "grpcpp/alarm.h"
#include "server/request_conversion.h"
#include "server/status_mapping.h"

namespace ember {

void LogRequest(const char* method, RequestId id, const std::string& client_id,
                const grpc::Status& status, FinishReason reason, const RequestTimings& t) {
  EMBER_LOG(INFO) << method << " id=" << id << (client_id.empty() ? "" : " client_id=") << client_id
                  << " status=" << static_cast<int>(status.error_code())
                  << " finish=" << FinishReasonName(reason) << " prompt_tokens=" << t.prompt_tokens
                  << " generated_tokens=" << t.generated_tokens
                  << " queue_s=" << absl::ToDoubleSeconds(t.queue_wait)
                  << " ttft_s=" << absl::ToDoubleSeconds(t.time_to_first_token)
                  << " total_s=" << absl::ToDoubleSeconds(t.total);
}

namespace {

// gRPC cancels a call both when the client goes away and when its deadline passes; the two end a
// request differently (cancelled vs deadline), so look at the clock. The client's own timer
// usually fires first: it cancels the call, and that cancel reaches us before our copy of the
// deadline (computed from the grpc-timeout header when the call arrived, so later by the transit
// time) has passed. A cancel within kDeadlineGrace of the deadline therefore counts as the
// deadline; a client that cancels by hand in its last second is the only thing misfiled.
constexpr auto kDeadlineGrace = std::chrono::seconds(1);

FinishReason CancelReason(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return FinishReason::kCancelled;
  return deadline - kDeadlineGrace <= std::chrono::system_clock::now() ? FinishReason::kDeadline
                                                                       : FinishReason::kCancelled;
}

// The race between Submit returning (on the RPC's thread) and gRPC's OnCancel (on any thread),
// resolved the same way by both reactors. Lives in the reactor's shared state, under its mutex.
struct SubmitHandshake {
  bool started = false;         // Submit returned
  bool cancel_pending = false;  // OnCancel came before Submit returned
  RequestId id = 0;
};

// After Submit returned `id`: records it; true when a cancel came first and must be sent now.
template <typename State>
bool RecordSubmitted(State& state, RequestId id) {
  absl::MutexLock lock(&state.mu);
  state.submit.id = id;
  state.submit.started = true;
  return state.submit.cancel_pending;
}

// OnCancel: cancels the engine request, or leaves the cancel for RecordSubmitted to report.
template <typename State>
void ForwardCancel(State& state, Engine& engine, const grpc::CallbackServerContext* context) {
  RequestId id = 0;
  {
    absl::MutexLock lock(&state.mu);
    if (!state.submit.started) {
      state.submit.cancel_pending = true;
      return;
    }
    id = state.submit.id;
  }
  engine.Cancel(id, CancelReason(context));
}

// ---------------------------------------------------------------------------------------------
// Unary Generate.

class UnaryGenerateReactor;

// Shared between the reactor (gRPC threads) and the engine callback (engine loop thread).
struct UnaryState {
  absl::Mutex mu;
  UnaryGenerateReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;  // null once the RPC is done
  SubmitHandshake submit ABSL_GUARDED_BY(mu);
  bool final_pending ABSL_GUARDED_BY(mu) = false;  // final event came before Submit returned
  std::string text;                                // engine thread only until the final event
  std::vector<int32_t> tokens;
  google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs> logprobs;
  GenerationEvent final_event;
};

class UnaryGenerateReactor : public grpc::ServerUnaryReactor {
 public:
  UnaryGenerateReactor(grpc::CallbackServerContext* context, ember::v1::GenerateResponse* response,
                       bool return_token_ids, Engine* engine, Metrics* metrics,
                       const ServerOptions& options, std::string model_name, std::string client_id)
      : context_(context),
        response_(response),
        return_token_ids_(return_token_ids),
        engine_(engine),
        metrics_(metrics),
        log_requests_(options.log_requests),
        model_name_(std::move(model_name)),
        client_id_(std::move(client_id)),
        state_(std::make_shared<UnaryState>()) {
    absl::MutexLock lock(&state_->mu);
    state_->reactor = this;
  }

  void Start(GenerationRequest request) {
    std::shared_ptr<UnaryState> state = state_;
    const Tokenizer* tokenizer = &engine_->tokenizer();
    auto id = engine_->Submit(std::move(request), [state, tokenizer](const GenerationEvent& e) {
      for (int32_t t : e.tokens) state->tokens.push_back(t);
      state->text += e.text;
      for (const SampledToken& s : e.logprobs) AppendLogprobs(s, *tokenizer, &state->logprobs);
      if (!e.finished) return;
      state->final_event = e;
      UnaryGenerateReactor* reactor;
      {
        absl::MutexLock lock(&state->mu);
        if (!state->submit.started) {
          state->final_pending = true;
          return;
        }
        reactor = state->reactor;
      }
      if (reactor != nullptr) reactor->Complete();
    });
    if (!id.ok()) {
      const grpc::Status status = ToGrpcStatus(id.status());
      if (metrics_ != nullptr) metrics_->OnRpcFinished("Generate", status.error_code());
      Finish(status);
      return;
    }
    // The final event may have come before Submit returned: the reactor completes it then.
    const bool cancel_now = RecordSubmitted(*state_, *id);
    bool complete_now;
    {
      absl::MutexLock lock(&state_->mu);
      complete_now = state_->final_pending;
    }
    if (cancel_now) engine_->Cancel(*id, CancelReason(context_));
    if (complete_now) Complete();
  }

  void OnCancel() override { ForwardCancel(*state_, *engine_, context_); }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    delete this;
  }

 private:
  // Fills the response from the final event and finishes the RPC (exactly once).
  void Complete() {
    const GenerationEvent& e = state_->final_event;
    response_->set_text(state_->text);
    if (return_token_ids_) {
      response_->mutable_token_ids()->Add(state_->tokens.begin(), state_->tokens.end());
    }
    response_->set_finish_reason(ToProtoFinishReason(e.finish_reason));
    FillUsageAndTimings(e.timings, response_->mutable_usage(), response_->mutable_timings());
    *response_->mutable_logprobs() = std::move(state_->logprobs);
    AppendHypotheses(e.hypotheses, return_token_ids_, response_->mutable_hypotheses());
    response_->set_model(model_name_);
    const grpc::Status status = FinalStatus(e.finish_reason, e.error);
    if (metrics_ != nullptr) metrics_->OnRpcFinished("Generate", status.error_code());
    RequestId id;
    {
      absl::MutexLock lock(&state_->mu);
      id = state_->submit.id;
    }
    if (log_requests_) LogRequest("Generate", id, client_id_, status, e.finish_reason, e.timings);
    Finish(status);
  }

  grpc::CallbackServerContext* context_;
  ember::v1::GenerateResponse* response_;
  const bool return_token_ids_;
  Engine* engine_;
  Metrics* metrics_;
  const bool log_requests_;
  const std::string model_name_;
  const std::string client_id_;
  std::shared_ptr<UnaryState> state_;
};

// ---------------------------------------------------------------------------------------------
// Streaming GenerateStream.

class StreamGenerateReactor;

struct StreamState {
  StreamState(Metrics* m, int64_t cap, absl::Duration stall)
      : metrics(m), max_buffer_bytes(cap), stall_timeout(stall) {}

  // Keeps the server-wide gauge equal to the sum of every stream's pending_bytes.
  void AddPending(int64_t delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    pending_bytes += delta;
    if (metrics != nullptr && delta != 0) metrics->AddStreamBufferedBytes(delta);
  }
  bool StallLimited() const {
    return stall_timeout > absl::ZeroDuration() && stall_timeout != absl::InfiniteDuration();
  }

  Metrics* const metrics;  // may be null
  const int64_t max_buffer_bytes;
  const absl::Duration stall_timeout;
  absl::Mutex mu;
  StreamGenerateReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  SubmitHandshake submit ABSL_GUARDED_BY(mu);
  // Messages not yet written; the front one is being written when write_in_flight. Messages that
  // queue behind it are coalesced into one, so a slow reader costs bytes, not message count.
  std::deque<ember::v1::GenerateStreamResponse> pending ABSL_GUARDED_BY(mu);
  int64_t pending_bytes ABSL_GUARDED_BY(mu) = 0;
  bool write_in_flight ABSL_GUARDED_BY(mu) = false;
  absl::Time write_started ABSL_GUARDED_BY(mu);    // when the write in flight began
  bool final_queued ABSL_GUARDED_BY(mu) = false;   // the last message is in `pending`
  bool writes_broken ABSL_GUARDED_BY(mu) = false;  // a write failed: the client is gone
  bool slow_reader ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;   // Finish() called
  bool resetting ABSL_GUARDED_BY(mu) = false;  // ResetStalled is cancelling the call
  // Armed when the request ends: resets the call if the client has not taken the rest of the
  // stream within the stall timeout. Destroyed (so cancelled) in OnDone.
  std::unique_ptr<grpc::Alarm> stall_alarm ABSL_GUARDED_BY(mu);
  grpc::Status final_status ABSL_GUARDED_BY(mu);
  FinishReason reason ABSL_GUARDED_BY(mu) = FinishReason::kNone;
  RequestTimings timings ABSL_GUARDED_BY(mu);
};

class StreamGenerateReactor : public grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse> {
 public:
  StreamGenerateReactor(grpc::CallbackServerContext* context, Engine* engine, Metrics* metrics,
                        const ServerOptions& options, std::string client_id)
      : context_(context),
        engine_(engine),
        metrics_(metrics),
        log_requests_(options.log_requests),
        client_id_(std::move(client_id)),
        state_(std::make_shared<StreamState>(metrics, options.max_stream_buffer_bytes,
                                             options.stream_stall_timeout)) {
    absl::MutexLock lock(&state_->mu);
    state_->reactor = this;
  }

  void Start(GenerationRequest request) {
    std::shared_ptr<StreamState> state = state_;
    const Tokenizer* tokenizer = &engine_->tokenizer();
    Engine* engine = engine_;
    auto id =
        engine_->Submit(std::move(request), [state, tokenizer, engine](const GenerationEvent& e) {
          OnEvent(state, *tokenizer, *engine, e);
        });
    if (!id.ok()) {
      const grpc::Status status = ToGrpcStatus(id.status());
      if (metrics_ != nullptr) metrics_->OnRpcFinished("GenerateStream", status.error_code());
      {
        absl::MutexLock lock(&state_->mu);
        state_->finished = true;
      }
      Finish(status);
      return;
    }
    if (RecordSubmitted(*state_, *id)) engine_->Cancel(*id, CancelReason(context_));
    Pump(state_);
  }

  void OnCancel() override { ForwardCancel(*state_, *engine_, context_); }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->write_in_flight = false;
      if (!state_->pending.empty()) {
        state_->AddPending(-static_cast<int64_t>(state_->pending.front().ByteSizeLong()));
        state_->pending.pop_front();
      }
      if (!ok) {
        state_->writes_broken = true;
        state_->pending.clear();
        state_->AddPending(-state_->pending_bytes);
      }
    }
    Pump(state_);
  }

  void OnDone() override {
    std::unique_ptr<grpc::Alarm> alarm;
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
      alarm = std::move(state_->stall_alarm);
      state_->pending.clear();
      state_->AddPending(-state_->pending_bytes);
    }
    alarm.reset();  // cancels it; its callback then runs with ok == false and lets go of the state
    delete this;
  }

 private:
  // Engine thread: queue the event's message (coalescing behind an in-flight write), enforce the
  // slow-reader limits (buffered bytes, stalled write), and start a write if none is in flight.
  static void OnEvent(const std::shared_ptr<StreamState>& state, const Tokenizer& tokenizer,
                      Engine& engine, const GenerationEvent& e) {
    bool cancel = false;
    RequestId id = 0;
    {
      absl::MutexLock lock(&state->mu);
      if (state->writes_broken) {
        // Nothing more can be sent; remember the outcome for Finish.
      } else {
        const bool can_coalesce =
            state->pending.size() >= 2 || (state->pending.size() == 1 && !state->write_in_flight);
        if (!can_coalesce) state->pending.emplace_back();
        ember::v1::GenerateStreamResponse& m = state->pending.back();
        const int64_t before = static_cast<int64_t>(m.ByteSizeLong());
        m.mutable_text()->append(e.text);
        m.mutable_token_ids()->Add(e.tokens.begin(), e.tokens.end());
        for (const SampledToken& s : e.logprobs) AppendLogprobs(s, tokenizer, m.mutable_logprobs());
        if (e.finished) {
          m.set_finish_reason(ToProtoFinishReason(e.finish_reason));
          FillUsageAndTimings(e.timings, m.mutable_usage(), m.mutable_timings());
          AppendHypotheses(e.hypotheses, /*with_token_ids=*/true, m.mutable_hypotheses());
        }
        state->AddPending(static_cast<int64_t>(m.ByteSizeLong()) - before);
        const bool over_cap = state->pending_bytes > state->max_buffer_bytes;
        const bool stalled = state->write_in_flight && state->StallLimited() &&
                             absl::Now() - state->write_started > state->stall_timeout;
        if (!e.finished && !state->slow_reader && (over_cap || stalled)) {
          state->slow_reader = true;
          state->final_status = grpc::Status(
              grpc::StatusCode::RESOURCE_EXHAUSTED,
              over_cap ? "the client did not read the stream: its buffer passed the server's "
                         "--max_stream_buffer_bytes and the request was cancelled"
                       : "the client did not read the stream for the server's "
                         "--stream_stall_timeout_seconds and the request was cancelled");
          cancel = true;
          id = state->submit.id;
        }
      }
      if (e.finished) {
        state->final_queued = true;
        state->reason = e.finish_reason;
        state->timings = e.timings;
        if (!state->slow_reader) state->final_status = FinalStatus(e.finish_reason, e.error);
      }
    }
    if (cancel) {
      if (state->metrics != nullptr) state->metrics->OnSlowReaderCancelled();
      engine.Cancel(id);
    }
    if (e.finished) ArmStallAlarm(state);
    Pump(state);
  }

  // The request has ended; its stream must be delivered within the stall timeout. The alarm is
  // set outside the lock (no gRPC calls under it) and kept only if the RPC is still running.
  static void ArmStallAlarm(const std::shared_ptr<StreamState>& state) {
    if (!state->StallLimited()) return;
    auto alarm = std::make_unique<grpc::Alarm>();
    alarm->Set(absl::ToChronoTime(absl::Now() + state->stall_timeout), [state](bool fired) {
      if (fired) ResetStalled(state);
    });
    absl::MutexLock lock(&state->mu);
    // Otherwise OnDone has run: the alarm is destroyed on return, after the lock, cancelling it.
    if (state->reactor != nullptr) state->stall_alarm = std::move(alarm);
  }

  // The stall timeout passed with the stream unfinished: the client is not taking its output, and
  // even the final status would wait behind it. Cancelling the call (RST_STREAM; the client sees
  // CANCELLED) frees it and its buffer. Pump does not Finish while this runs, so the reactor and
  // its context stay alive.
  static void ResetStalled(const std::shared_ptr<StreamState>& state) {
    StreamGenerateReactor* reactor;
    RequestId id;
    bool count;
    {
      absl::MutexLock lock(&state->mu);
      reactor = state->reactor;
      if (reactor == nullptr || state->finished || state->resetting) return;
      state->resetting = true;
      count = !state->slow_reader;
      state->slow_reader = true;
      state->final_status = grpc::Status(grpc::StatusCode::CANCELLED,
                                         "the client did not read the stream for the server's "
                                         "--stream_stall_timeout_seconds: the call was reset");
      id = state->submit.id;
    }
    EMBER_LOG(WARNING) << "GenerateStream id=" << id
                       << ": the client took no output for the stall timeout; resetting the call";
    if (count && state->metrics != nullptr) state->metrics->OnSlowReaderCancelled();
    reactor->context_->TryCancel();
    {
      absl::MutexLock lock(&state->mu);
      state->resetting = false;
    }
    Pump(state);
  }

  // Starts the next write, or finishes the RPC once the final message is out (or writes broke and
  // the final event arrived). Any thread; never holds the lock while calling into gRPC.
  static void Pump(const std::shared_ptr<StreamState>& state) {
    StreamGenerateReactor* reactor = nullptr;
    const ember::v1::GenerateStreamResponse* to_write = nullptr;
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&state->mu);
      reactor = state->reactor;
      if (reactor == nullptr || !state->submit.started || state->finished ||
          state->write_in_flight || state->resetting) {
        return;
      }
      if (!state->pending.empty() && !state->writes_broken) {
        state->write_in_flight = true;
        state->write_started = absl::Now();
        to_write = &state->pending.front();  // deque references survive push_back
      } else if (state->final_queued) {
        state->finished = true;
        finish = true;
        status = state->final_status;
      }
    }
    if (to_write != nullptr) {
      reactor->StartWrite(to_write);
    } else if (finish) {
      reactor->Complete(status);
    }
  }

  void Complete(const grpc::Status& status) {
    RequestId id;
    FinishReason reason;
    RequestTimings timings;
    {
      absl::MutexLock lock(&state_->mu);
      id = state_->submit.id;
      reason = state_->reason;
      timings = state_->timings;
    }
    if (metrics_ != nullptr) metrics_->OnRpcFinished("GenerateStream", status.error_code());
    if (log_requests_) LogRequest("GenerateStream", id, client_id_, status, reason, timings);
    Finish(status);
  }

  grpc::CallbackServerContext* context_;
  Engine* engine_;
  Metrics* metrics_;
  const bool log_requests_;
  const std::string client_id_;
  std::shared_ptr<StreamState> state_;
};

}  // namespace

grpc::ServerUnaryReactor* StartUnaryGenerate(grpc::CallbackServerContext* context,
                                             GenerationRequest request,
                                             ember::v1::GenerateResponse* response,
                                             bool return_token_ids, Engine* engine,
                                             Metrics* metrics, const ServerOptions& options,
                                             const std::string& model_name) {
  std::string client_id = request.client_id;
  auto* reactor = new UnaryGenerateReactor(context, response, return_token_ids, engine, metrics,
                                           options, model_name, std::move(client_id));
  reactor->Start(std::move(request));
  return reactor;
}

grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>* StartStreamGenerate(
    grpc::CallbackServerContext* context, GenerationRequest request, Engine* engine,
    Metrics* metrics, const ServerOptions& options) {
  std::string client_id = request.client_id;
  auto* reactor =
      new StreamGenerateReactor(context, engine, metrics, options, std::move(client_id));
  reactor->Start(std::move(request));
  return reactor;
}

}  // namespace ember
