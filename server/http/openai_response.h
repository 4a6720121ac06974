// The OpenAI response bodies and stream chunks for /v1/completions and /v1/chat/completions,
// built from the engine's events. Stateless functions and a per-request logprobs accumulator;
// any thread.
#ifndef EMBER_SERVER_HTTP_OPENAI_RESPONSE_H_
#define EMBER_SERVER_HTTP_OPENAI_RESPONSE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/engine/request.h"
#include "core/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"
#include "server/http/http_errors.h"

namespace ember::http {

// What every body of one response repeats.
struct ResponseIdentity {
  std::string id;       // "cmpl-..." or "chatcmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
  Api api = Api::kCompletions;
};

// A fresh identity: a process-unique id with OpenAI's prefix for `api`, created now.
ResponseIdentity NewIdentity(Api api, std::string model);

// OpenAI's finish_reason: "stop" (end of sequence or a stop string), "length"; the others are not
// successes and reach clients as errors, but are named for logs and streams: "abort" (cancelled),
// "timeout", "rejected", "error".
const char* OpenAiFinishReason(FinishReason reason);

nlohmann::json UsageJson(const RequestTimings& timings);

// Log-probabilities in the shape of either endpoint, accumulated over a request's events.
// Token strings are each token decoded alone, special tokens kept (as vLLM returns them).
class LogprobsBuilder {
 public:
  LogprobsBuilder(const Tokenizer& tokenizer, Api api) : tokenizer_(tokenizer), api_(api) {}
  // A completion with echo: the prompt's own tokens first; the first has no log-probability.
  void AddPrompt(const std::vector<int32_t>& prompt, const std::vector<SampledToken>& scored);
  void Add(const SampledToken& sampled);
  bool empty() const { return count_ == 0; }
  // The accumulated entries as the response's `logprobs` value; Take() also clears them (a
  // stream's chunk carries its own tokens' entries).
  nlohmann::json Take();

 private:
  std::string TokenText(int32_t id) const;
  void AddEntry(int32_t token, const float* logprob, const std::vector<TokenLogprob>& top);

  const Tokenizer& tokenizer_;
  const Api api_;
  int64_t count_ = 0;
  int64_t text_offset_ = 0;  // completions: where the next token's text starts
  nlohmann::json tokens_ = nlohmann::json::array();
  nlohmann::json token_logprobs_ = nlohmann::json::array();
  nlohmann::json top_logprobs_ = nlohmann::json::array();
  nlohmann::json text_offsets_ = nlohmann::json::array();
  nlohmann::json content_ = nlohmann::json::array();  // chat
};

// Whole (non-streamed) responses.
std::string CompletionBody(const ResponseIdentity& who, const std::string& text,
                           nlohmann::json logprobs, FinishReason reason,
                           const RequestTimings& timings);
std::string ChatBody(const ResponseIdentity& who, const std::string& text, nlohmann::json logprobs,
                     FinishReason reason, const RequestTimings& timings);

// One server-sent event ("data: {...}\n\n") of a stream. `finish` kNone: the chunk has
// finish_reason null. A chat's first chunk has `role`; `text` may be empty.
std::string CompletionChunk(const ResponseIdentity& who, absl::string_view text,
                            nlohmann::json logprobs, FinishReason finish);
std::string ChatChunk(const ResponseIdentity& who, bool with_role, absl::string_view text,
                      nlohmann::json logprobs, FinishReason finish);
// The stream_options.include_usage chunk: no choices, the usage.
std::string UsageChunk(const ResponseIdentity& who, const RequestTimings& timings);
// An error in a stream whose status line was already sent: OpenAI's error body as an event.
std::string ErrorEvent(const absl::Status& status);
inline constexpr absl::string_view kDoneEvent = "data: [DONE]\n\n";

// Serializes as the wire wants: UTF-8 kept as is, invalid bytes (never expected: the engine emits
// whole characters) replaced rather than thrown on.
std::string Dump(const nlohmann::json& json);

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_OPENAI_RESPONSE_H_
