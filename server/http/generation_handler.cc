// POST /v1/completions and POST /v1/chat/completions: parse, submit, then answer whole or as
// server-sent events.
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/logging.h"
#include "server/http/connection_watch.h"
#include "server/http/generation_call.h"
#include "server/http/http_server.h"
#include "server/http/openai_request.h"
#include "server/http/openai_response.h"

namespace ember::http {

namespace {

const char* MethodName(Api api) {
  return api == Api::kChat ? "/v1/chat/completions" : "/v1/completions";
}

// How a finished request ended, as the status its client gets: OK for a natural end.
absl::Status Outcome(FinishReason reason, const absl::Status& error) {
  switch (reason) {
    case FinishReason::kEos:
    case FinishReason::kStopSequence:
    case FinishReason::kLength:
      return absl::OkStatus();
    case FinishReason::kCancelled:
      // The drain's CancelAll carries its reason (UNAVAILABLE: retry elsewhere).
      return error.ok() ? absl::CancelledError("request cancelled") : error;
    case FinishReason::kDeadline:
      return absl::DeadlineExceededError("timeout: the request did not finish within its timeout");
    case FinishReason::kRejected:
      return error.ok() ? absl::ResourceExhaustedError(
                              "the server's queue is full; retry later or on another replica")
                        : error;
    case FinishReason::kError:
    case FinishReason::kNone:
      break;
  }
  return error.ok() ? absl::InternalError("generation failed") : error;
}

// Everything a request's answer needs once it is submitted, shared by the handler and (for a
// stream) the content provider and its releaser, which cpp-httplib copies.
struct ActiveRequest {
  ActiveRequest(Engine* engine, int fd, int64_t max_buffered, Metrics* metrics, Api api,
                std::string model)
      : call(engine, fd, max_buffered, metrics),
        who(NewIdentity(api, std::move(model))),
        logprobs(engine->tokenizer(), api) {}

  GenerationCall call;
  ResponseIdentity who;
  LogprobsBuilder logprobs;
  bool want_logprobs = false;
  bool include_usage = false;
  std::string echo;                  // completions with echo: the prompt's text
  std::vector<int32_t> echo_tokens;  // ... and its tokens, when the prompt's logprobs are wanted
  std::string request_id;
  // Filled as events arrive.
  std::string text;
  std::vector<GenerationEvent> pending;  // a stream's events not yet written
  bool role_sent = false;
  FinishReason reason = FinishReason::kNone;
  absl::Status error;
  RequestTimings timings;
  absl::StatusCode outcome = absl::StatusCode::kOk;
  std::atomic<bool> accounted{false};  // counted, logged and unregistered

  // Folds `e` into text/logprobs; true for the final event.
  bool Absorb(const GenerationEvent& e) {
    if (want_logprobs && !e.prompt_logprobs.empty() && !echo_tokens.empty()) {
      logprobs.AddPrompt(echo_tokens, e.prompt_logprobs);
      echo_tokens.clear();
    }
    if (want_logprobs) {
      for (const SampledToken& s : e.logprobs) logprobs.Add(s);
    }
    if (!e.finished) return false;
    reason = e.finish_reason;
    error = e.error;
    timings = e.timings;
    return true;
  }

  // The SSE bytes for `events` (a stream's), including the end ([DONE]) after the final one.
  std::string FormatEvents(const std::vector<GenerationEvent>& events) {
    std::string out;
    for (const GenerationEvent& e : events) {
      const bool final_event = Absorb(e);
      std::string piece = e.text;
      if (!echo.empty()) {
        piece = absl::StrCat(echo, piece);
        echo.clear();
      }
      absl::Status status = final_event ? Outcome(reason, error) : absl::OkStatus();
      if (final_event && call.slow_reader()) {
        status = absl::ResourceExhaustedError(
            "the client did not read its stream and the output waiting for it passed "
            "--max_stream_buffer_bytes; the request was cancelled");
      }
      const FinishReason finish = final_event && status.ok() ? reason : FinishReason::kNone;
      const bool has_logprobs = want_logprobs && !logprobs.empty();
      if (!piece.empty() || has_logprobs || finish != FinishReason::kNone ||
          (who.api == Api::kChat && !role_sent)) {
        nlohmann::json lp = has_logprobs ? logprobs.Take() : nlohmann::json();
        if (who.api == Api::kChat) {
          absl::StrAppend(&out, ChatChunk(who, !role_sent, piece, std::move(lp), finish));
          role_sent = true;
        } else {
          absl::StrAppend(&out, CompletionChunk(who, piece, std::move(lp), finish));
        }
      }
      if (!final_event) continue;
      outcome = status.code();
      if (!status.ok()) absl::StrAppend(&out, ErrorEvent(status));
      if (status.ok() && include_usage) absl::StrAppend(&out, UsageChunk(who, timings));
      absl::StrAppend(&out, kDoneEvent);
    }
    return out;
  }
};

void LogHttpRequest(const char* method, const ActiveRequest& r, int http_status) {
  const RequestTimings& t = r.timings;
  EMBER_LOG(INFO) << "HTTP " << method << " engine_id=" << r.call.id()
                  << (r.request_id.empty() ? "" : " request_id=") << r.request_id
                  << " http_status=" << http_status << " finish=" << FinishReasonName(r.reason)
                  << " prompt_tokens=" << t.prompt_tokens
                  << " generated_tokens=" << t.generated_tokens
                  << " queue_s=" << absl::ToDoubleSeconds(t.queue_wait)
                  << " ttft_s=" << absl::ToDoubleSeconds(t.time_to_first_token)
                  << " total_s=" << absl::ToDoubleSeconds(t.total);
}

}  // namespace

void HttpServer::HandleGeneration(const httplib::Request& request, httplib::Response& response,
                                  Api api) {
  const char* method = MethodName(api);
  absl::StatusOr<std::shared_ptr<const Serving>> serving = CurrentServing();
  if (!serving.ok()) return ReplyError(method, serving.status(), response);
  Engine* engine = (*serving)->engine;

  OpenAiRequest parsed;
  if (api == Api::kChat) {
    absl::StatusOr<ChatRequest> chat = ParseChatRequest(request.body);
    if (!chat.ok()) return ReplyError(method, chat.status(), response);
    const absl::StatusOr<chat::ChatTemplate>& tmpl = (*serving)->chat_template;
    if (!tmpl.ok()) {
      return ReplyError(method,
                        absl::InvalidArgumentError(absl::StrCat(
                            "messages: this model cannot take chat requests: ",
                            tmpl.status().message(), "; use /v1/completions with a prompt")),
                        response);
    }
    absl::StatusOr<std::string> prompt =
        tmpl->Render(chat->messages, chat->add_generation_prompt, chat->template_kwargs);
    if (!prompt.ok()) {
      return ReplyError(
          method,
          absl::InvalidArgumentError(absl::StrCat(
              "messages: the model's chat template refused them: ", prompt.status().message())),
          response);
    }
    // The template writes the special tokens (BOS included) itself, as transformers assumes.
    absl::StatusOr<std::vector<int32_t>> ids =
        engine->tokenizer().Encode(*prompt, /*add_special_tokens=*/false);
    if (!ids.ok()) {
      return ReplyError(
          method, absl::InvalidArgumentError(absl::StrCat("messages: ", ids.status().message())),
          response);
    }
    parsed = std::move(chat->common);
    parsed.generation.prompt_tokens = std::move(*ids);
  } else {
    absl::StatusOr<OpenAiRequest> completion = ParseCompletionRequest(request.body);
    if (!completion.ok()) return ReplyError(method, completion.status(), response);
    parsed = std::move(*completion);
  }
  if (!parsed.model.empty() && parsed.model != (*serving)->model_name) {
    return ReplyError(method,
                      absl::NotFoundError(absl::StrCat("model: \"", parsed.model,
                                                       "\" does not exist; this server serves \"",
                                                       (*serving)->model_name, "\"")),
                      response);
  }

  const int fd = ConnectionFd(request);
  if (fd >= 0 && options_.http_send_buffer_bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options_.http_send_buffer_bytes,
               sizeof(options_.http_send_buffer_bytes));
  }
  auto active = std::make_shared<ActiveRequest>(engine, fd, options_.max_stream_buffer_bytes,
                                                metrics_, api, (*serving)->model_name);
  GenerationRequest& g = parsed.generation;
  if (request.has_header("X-Request-Id")) g.request_id = request.get_header_value("X-Request-Id");
  active->request_id = g.request_id;
  if (parsed.timeout) g.deadline = absl::Now() + *parsed.timeout;
  active->want_logprobs = parsed.logprobs;
  active->include_usage = parsed.include_usage;
  if (parsed.echo) {
    if (!g.prompt.empty()) {
      active->echo = g.prompt;
    } else {
      absl::StatusOr<std::string> text =
          engine->tokenizer().Decode(g.prompt_tokens, g.skip_special_tokens);
      if (text.ok()) active->echo = *text;
    }
    // The prompt's log-probabilities come per token: tokenize here to know which.
    if (g.prompt_logprobs && g.prompt_tokens.empty()) {
      absl::StatusOr<std::vector<int32_t>> ids =
          engine->tokenizer().Encode(g.prompt, /*add_special_tokens=*/true);
      if (!ids.ok()) {
        return ReplyError(
            method, absl::InvalidArgumentError(absl::StrCat("prompt: ", ids.status().message())),
            response);
      }
      g.prompt_tokens = std::move(*ids);
      g.prompt.clear();
    }
    if (g.prompt_logprobs) active->echo_tokens = g.prompt_tokens;
  }
  const bool stream = parsed.stream;

  calls_->Begin();
  Register(&active->call);
  // Ends the call's accounting once its answer is complete (or abandoned); once.
  auto finish = [this, active, method](int http_status) {
    if (active->accounted.exchange(true)) return;
    Unregister(&active->call);
    CountCall(method, active->outcome);
    if (options_.log_requests) LogHttpRequest(method, *active, http_status);
    calls_->End();
  };

  absl::Status submitted = active->call.Submit(std::move(g));
  if (!submitted.ok()) {
    active->outcome = submitted.code();
    Unregister(&active->call);
    calls_->End();
    const absl::Status renamed = ToOpenAiParams(submitted, api);
    response.status = HttpStatusFor(renamed.code());
    response.set_content(ErrorBody(renamed), "application/json");
    CountCall(method, renamed.code());
    return;
  }

  // Until the first events arrive nothing is sent, so a request refused or failed before its
  // first token still gets a real HTTP status.
  std::vector<GenerationEvent> first = active->call.Next();
  if (first.empty()) {  // the client went away (or the drain ended)
    active->outcome = absl::StatusCode::kCancelled;
    response.status = 499;
    finish(499);
    return;
  }
  const bool failed_early = first.back().finished &&
                            !Outcome(first.back().finish_reason, first.back().error).ok() &&
                            first.back().timings.generated_tokens == 0;
  if (!stream || failed_early) {
    std::vector<GenerationEvent> events = std::move(first);
    while (true) {
      bool done = false;
      for (const GenerationEvent& e : events) {
        active->text += e.text;
        done = active->Absorb(e) || done;
      }
      if (done) break;
      events = active->call.Next();
      if (events.empty()) {
        active->outcome = absl::StatusCode::kCancelled;
        response.status = 499;
        finish(499);
        return;
      }
    }
    const absl::Status status = Outcome(active->reason, active->error);
    active->outcome = status.code();
    if (!status.ok()) {
      response.status = HttpStatusFor(status.code());
      response.set_content(ErrorBody(status), "application/json");
    } else {
      nlohmann::json logprobs = active->want_logprobs ? active->logprobs.Take() : nlohmann::json();
      const std::string text = active->echo + active->text;
      response.status = 200;
      response.set_content(
          api == Api::kChat
              ? ChatBody(active->who, text, std::move(logprobs), active->reason, active->timings)
              : CompletionBody(active->who, text, std::move(logprobs), active->reason,
                               active->timings),
          "application/json");
    }
    finish(response.status);
    return;
  }

  active->pending = std::move(first);
  response.status = 200;
  response.set_header("Cache-Control", "no-cache");
  // Proxies (nginx) must not buffer the stream.
  response.set_header("X-Accel-Buffering", "no");
  response.set_chunked_content_provider(
      "text/event-stream",
      [active](size_t /*offset*/, httplib::DataSink& sink) {
        if (active->pending.empty()) active->pending = active->call.Next();
        if (active->pending.empty()) {  // the client went away, or the drain ended
          active->outcome = absl::StatusCode::kCancelled;
          return false;
        }
        const std::string out = active->FormatEvents(active->pending);
        active->pending.clear();
        if (!out.empty() && !sink.write(out.data(), out.size())) {
          // Not taken within the stall timeout, or the connection broke.
          active->call.Cancel();
          active->outcome = absl::StatusCode::kCancelled;
          return false;
        }
        if (active->call.finished()) sink.done();
        return true;
      },
      [this, finish, active](bool success) {
        if (!success && active->outcome == absl::StatusCode::kOk) {
          active->outcome = absl::StatusCode::kCancelled;
        }
        // A write that failed while the client is still connected timed out
        // (--stream_stall_timeout_seconds): a slow reader, as the gRPC stream counts it. The
        // request itself is cancelled when the call is destroyed.
        if (!success && !active->call.finished() && !active->call.client_gone() &&
            !active->call.slow_reader() && !PeerClosed(active->call.fd()) && metrics_ != nullptr) {
          metrics_->OnSlowReaderCancelled();
        }
        finish(success ? 200 : 499);
      });
}

}  // namespace ember::http
