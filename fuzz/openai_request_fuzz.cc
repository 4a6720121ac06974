// Fuzzes the HTTP API's request handling as a body meets it: the bytes are parsed as a completion
// and as a chat request (server/http/openai_request.h), an accepted request is judged by
// ValidateGenerationRequest as Engine::Submit does, and every refusal is renamed to OpenAI's
// parameters (server/http/http_errors.h) and turned into an error body.
//
// Invariants: nothing throws or crashes; a refusal is INVALID_ARGUMENT whose message starts with
// `param: ` where param is "request body" or a top-level key the body really has (with its index
// or sub-field: "stop[1]", "messages[0].content", "stream_options.include_usage"), or a parameter
// the engine fills by default ("prompt", "messages", "max_tokens"...); the error body is a JSON
// object of OpenAI's shape naming the same param; an accepted completion has exactly one prompt
// form.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/engine/request_validation.h"
#include "fuzz/fuzz_util.h"
#include "nlohmann/json.hpp"
#include "server/http/http_errors.h"
#include "server/http/openai_request.h"

namespace ember {
namespace {

RequestLimits Limits() {
  RequestLimits limits;
  limits.vocab_size = 1000;
  limits.max_new_tokens_limit = 2048;
  return limits;
}

// The parameter at the start of a message, up to its first '.' or '['.
std::string LeadingParam(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return "";
  absl::string_view field = message.substr(0, colon);
  return std::string(field.substr(0, field.find_first_of(".[")));
}

void CheckRefusal(const absl::Status& status, const nlohmann::json* body) {
  EMBER_FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
                   "refusal is not INVALID_ARGUMENT: ", status.ToString());
  const std::string message(status.message());
  const std::string param = LeadingParam(message);
  EMBER_FUZZ_CHECK(!param.empty(), "message names no parameter: ", message);
  if (param != "request body" && body != nullptr) {
    // Engine-side names of fields the client never sent (prompt defaults) are allowed too.
    const bool sent = body->contains(param);
    const bool default_field = param == "prompt" || param == "messages" || param == "max_tokens" ||
                               param == "logprobs" || param == "echo" || param == "top_logprobs";
    EMBER_FUZZ_CHECK(sent || default_field, "message names a parameter not in the body: ", message);
  }
  const nlohmann::json error = nlohmann::json::parse(http::ErrorBody(status), nullptr, false);
  EMBER_FUZZ_CHECK(error.is_object() && error["error"].is_object(), "error body is not JSON");
  EMBER_FUZZ_CHECK(error["error"]["code"] == "400", "400 expected: ", error.dump());
  if (param != "request body") {
    // The body's param is the field up to its first index: "messages", "stream_options.x".
    const std::string field = message.substr(0, message.find(": "));
    EMBER_FUZZ_CHECK(error["error"]["param"] == field.substr(0, field.find('[')), "param ",
                     error.dump(), " vs ", message);
  }
}

void Judge(const absl::StatusOr<GenerationRequest>& request, http::Api api,
           const nlohmann::json* body) {
  if (!request.ok()) return CheckRefusal(request.status(), body);
  const absl::Status validated =
      http::ToOpenAiParams(ValidateGenerationRequest(*request, Limits()), api);
  if (!validated.ok()) CheckRefusal(validated, body);
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json body = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  const nlohmann::json* object = body.is_object() ? &body : nullptr;

  auto completion = http::ParseCompletionRequest(bytes);
  if (completion.ok()) {
    EMBER_FUZZ_CHECK(object != nullptr, "accepted a body that is not a JSON object");
    const GenerationRequest& g = completion->generation;
    EMBER_FUZZ_CHECK(g.prompt.empty() != g.prompt_tokens.empty() || g.prompt.empty(),
                     "both prompt forms set");
    Judge(completion->generation, http::Api::kCompletions, object);
  } else {
    Judge(completion.status(), http::Api::kCompletions, object);
  }

  auto chat = http::ParseChatRequest(bytes);
  if (chat.ok()) {
    EMBER_FUZZ_CHECK(chat->messages.is_array() && !chat->messages.empty(), "no messages");
    for (const nlohmann::ordered_json& m : chat->messages) {
      EMBER_FUZZ_CHECK(m["role"].is_string(), "a message without a string role");
      EMBER_FUZZ_CHECK(m["content"].is_string() || m["content"].is_null(),
                       "content not flattened: ", m.dump());
    }
  } else {
    CheckRefusal(chat.status(), object);
  }
  return 0;
}
