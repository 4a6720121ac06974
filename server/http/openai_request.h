// Parsing of the OpenAI request bodies (/v1/completions, /v1/chat/completions) into the engine's
// GenerationRequest. Only types and shapes are checked here, each failure an INVALID_ARGUMENT
// "param: problem" naming the parameter as the client sent it (`messages[1].content`); ranges are
// left to Engine::Submit (ValidateGenerationRequest), whose messages http_errors.h renames.
// Unknown fields are ignored, as OpenAI's clients send fields a server may not know; a JSON null
// is the same as leaving the field out. Stateless; any thread.
#ifndef EMBER_SERVER_HTTP_OPENAI_REQUEST_H_
#define EMBER_SERVER_HTTP_OPENAI_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/engine/request.h"
#include "nlohmann/json.hpp"

namespace ember::http {

// What both endpoints share, beside the engine's request.
struct OpenAiRequest {
  // Sampling, stop strings, max_new_tokens (0: the server's default), ignore_eos,
  // skip_special_tokens, logprobs. A completion's prompt is set (text or token ids); a chat's is
  // filled in by the handler from the rendered template.
  GenerationRequest generation;
  std::string model;  // as sent; empty when absent
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a final chunk with usage
  // Completions: `echo` returns the prompt before the completion; with `logprobs`, the prompt's
  // log-probabilities too.
  bool echo = false;
  // Completions' `logprobs` (an integer: that many alternatives per token) or chat's `logprobs`
  // (true) + `top_logprobs`: the response carries log-probabilities.
  bool logprobs = false;
  // How long the request may take in all (the ember extension `timeout`, seconds); it then ends
  // with 504 (or an error event in a stream).
  std::optional<absl::Duration> timeout;
};

struct ChatRequest {
  OpenAiRequest common;
  // The conversation as the chat template receives it: every message an object with a string
  // `role` and a string `content` (text parts joined, null kept as null), other keys as sent, in
  // the order sent (Python keeps it; `tojson` in a template shows it).
  nlohmann::ordered_json messages;
  bool add_generation_prompt = true;       // vLLM's extension; true as OpenAI behaves
  nlohmann::ordered_json template_kwargs;  // vLLM's chat_template_kwargs: extra template variables
};

// Parses a request body (bytes as received). INVALID_ARGUMENT "request body: ..." when it is not a
// JSON object (with the parser's position), "param: ..." for a parameter of the wrong type or
// shape, or one ember does not support (n > 1, best_of > 1, suffix, logit_bias, tools).
absl::StatusOr<OpenAiRequest> ParseCompletionRequest(absl::string_view body);
absl::StatusOr<ChatRequest> ParseChatRequest(absl::string_view body);

// The body of a JSON request, for the other endpoints: an object, else INVALID_ARGUMENT
// "request body: ...".
absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view body);

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_OPENAI_REQUEST_H_
