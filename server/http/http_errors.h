// How the HTTP API reports a failure: OpenAI's error body and HTTP status for an absl::Status.
//
// Errors inside ember name request fields by their gRPC API paths ("sampling.temperature: must be
// in [0, 100], got 120"); the HTTP API's clients sent OpenAI parameters, so the message and the
// body's `param` name the parameter as the client sent it ("temperature"). Stateless; any thread.
#ifndef EMBER_SERVER_HTTP_HTTP_ERRORS_H_
#define EMBER_SERVER_HTTP_HTTP_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ember::http {

// Which request body a message is about: the same engine field has a different OpenAI name in
// each (the prompt is `messages` in a chat, top alternatives are `logprobs` in a completion).
enum class Api { kCompletions, kChat, kOther };

// The HTTP status for a canonical code: 400 invalid argument (and out of range, failed
// precondition), 401 unauthenticated, 403 permission denied, 404 not found, 413 payload too large
// is produced by the transport, 429 resource exhausted (queue full), 499 cancelled, 503
// unavailable (loading, draining), 504 deadline exceeded, 500 otherwise.
int HttpStatusFor(absl::StatusCode code);

// Rewrites a "field: problem" message of the engine or of the request parser so it starts with the
// OpenAI parameter (`sampling.top_p: ...` -> `top_p: ...`, `max_new_tokens` -> `max_tokens`,
// `prompt_token_ids` -> `prompt`, in a chat `prompt` -> `messages`). Other statuses are returned
// unchanged.
absl::Status ToOpenAiParams(const absl::Status& status, Api api);

// The OpenAI error body {"error": {"message", "type", "param", "code"}} for `status` (not OK):
// `param` is the leading parameter name of a 400's message (null otherwise), `code` the HTTP
// status as a string, `type` OpenAI's category (invalid_request_error, authentication_error,
// not_found_error, rate_limit_error, service_unavailable_error, timeout_error, server_error).
std::string ErrorBody(const absl::Status& status);

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_HTTP_ERRORS_H_
