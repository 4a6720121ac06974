#include "server/http/http_errors.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace ember::http {

namespace {

// The parameter a "field: problem" message starts with, when it starts with one: a word of
// letters, digits, '_', '.', '[' and ']' directly followed by ": ".
absl::string_view LeadingField(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return {};
  const absl::string_view field = message.substr(0, colon);
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '[' || c == ']';
    if (!ok) return {};
  }
  return field;
}

std::string OpenAiName(absl::string_view field, Api api) {
  std::string name(field);
  if (absl::ConsumePrefix(&field, "sampling.")) name = std::string(field);
  if (name == "max_new_tokens") return "max_tokens";
  if (name == "prompt" || name == "prompt_token_ids") {
    return api == Api::kChat ? "messages" : "prompt";
  }
  if (api == Api::kCompletions && (name == "top_logprobs" || name == "prompt_top_logprobs")) {
    return "logprobs";
  }
  if (name == "prompt_logprobs") return api == Api::kCompletions ? "echo" : name;
  return name;
}

const char* ErrorType(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return "invalid_request_error";
    case absl::StatusCode::kUnauthenticated:
      return "authentication_error";
    case absl::StatusCode::kPermissionDenied:
      return "permission_error";
    case absl::StatusCode::kNotFound:
      return "not_found_error";
    case absl::StatusCode::kResourceExhausted:
      return "rate_limit_error";
    case absl::StatusCode::kUnavailable:
      return "service_unavailable_error";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout_error";
    case absl::StatusCode::kCancelled:
      return "cancelled_error";
    default:
      return "server_error";
  }
}

}  // namespace

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;  // the client closed the request (nginx's convention; nobody reads it)
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

absl::Status ToOpenAiParams(const absl::Status& status, Api api) {
  if (status.ok()) return status;
  const absl::string_view message = status.message();
  const absl::string_view field = LeadingField(message);
  if (field.empty()) return status;
  // "stop[2]" keeps its index; only the name before it is translated.
  const size_t bracket = field.find('[');
  std::string renamed = OpenAiName(field.substr(0, bracket), api);
  if (bracket != absl::string_view::npos) absl::StrAppend(&renamed, field.substr(bracket));
  return absl::Status(status.code(), absl::StrCat(renamed, message.substr(field.size())));
}

std::string ErrorBody(const absl::Status& status) {
  nlohmann::json error = {
      {"message", std::string(status.message())},
      {"type", ErrorType(status.code())},
      {"param", nullptr},
      {"code", std::to_string(HttpStatusFor(status.code()))},
  };
  if (HttpStatusFor(status.code()) == 400) {
    const absl::string_view field = LeadingField(status.message());
    if (!field.empty()) error["param"] = std::string(field.substr(0, field.find('[')));
  }
  if (status.message().empty()) error["message"] = absl::StatusCodeToString(status.code());
  return nlohmann::json{{"error", std::move(error)}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
}

}  // namespace ember::http
