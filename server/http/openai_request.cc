#include "server/http/openai_request.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/http/json_fields.h"

namespace ember::http {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// `stop`: a string or an array of strings.
absl::Status ParseStop(const nlohmann::json& body, std::vector<std::string>* stop) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return absl::OkStatus();
  if (it->is_string()) {
    stop->push_back(it->get<std::string>());
    return absl::OkStatus();
  }
  if (!it->is_array()) {
    return FieldError(
        "stop", absl::StrCat("expected a string or an array of strings, got ", JsonTypeName(*it)));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& s = (*it)[i];
    if (!s.is_string()) {
      return FieldError(absl::StrCat("stop[", i, "]"),
                        absl::StrCat("expected a string, got ", JsonTypeName(s)));
    }
    stop->push_back(s.get<std::string>());
  }
  return absl::OkStatus();
}

// A field ember does not implement is refused when set to anything but its neutral value, rather
// than silently ignored: the client would get something other than what it asked for.
absl::Status RefuseUnless(const nlohmann::json& body, absl::string_view field,
                          const nlohmann::json& neutral, absl::string_view why) {
  auto it = body.find(std::string(field));
  if (it == body.end() || it->is_null() || *it == neutral) return absl::OkStatus();
  if (neutral.is_object() && it->is_object() && it->empty()) return absl::OkStatus();
  if (neutral.is_array() && it->is_array() && it->empty()) return absl::OkStatus();
  return FieldError(field, why);
}

// The parameters both endpoints share: sampling, length, stop, streaming, model.
absl::Status ParseCommon(const nlohmann::json& body, OpenAiRequest* out) {
  GenerationRequest& g = out->generation;
  SamplingParams& s = g.sampling;
  ASSIGN_OR_RETURN(std::optional<std::string> model, GetString(body, "model"));
  if (model) out->model = *model;
  ASSIGN_OR_RETURN(std::optional<double> temperature, GetNumber(body, "temperature"));
  if (temperature) s.temperature = static_cast<float>(*temperature);
  ASSIGN_OR_RETURN(std::optional<double> top_p, GetNumber(body, "top_p"));
  if (top_p) s.top_p = static_cast<float>(*top_p);
  // vLLM's convention: -1 (or 0) turns top_k off.
  ASSIGN_OR_RETURN(std::optional<int64_t> top_k, GetInteger(body, "top_k", -1, kInt32Max));
  if (top_k) s.top_k = *top_k < 0 ? 0 : static_cast<int32_t>(*top_k);
  ASSIGN_OR_RETURN(std::optional<double> min_p, GetNumber(body, "min_p"));
  if (min_p) s.min_p = static_cast<float>(*min_p);
  ASSIGN_OR_RETURN(std::optional<double> repetition, GetNumber(body, "repetition_penalty"));
  if (repetition) s.repetition_penalty = static_cast<float>(*repetition);
  ASSIGN_OR_RETURN(std::optional<double> presence, GetNumber(body, "presence_penalty"));
  if (presence) s.presence_penalty = static_cast<float>(*presence);
  ASSIGN_OR_RETURN(std::optional<double> frequency, GetNumber(body, "frequency_penalty"));
  if (frequency) s.frequency_penalty = static_cast<float>(*frequency);
  ASSIGN_OR_RETURN(std::optional<int64_t> seed,
                   GetInteger(body, "seed", std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max()));
  if (seed) s.seed = static_cast<uint64_t>(*seed);
  ASSIGN_OR_RETURN(std::optional<bool> ignore_eos, GetBool(body, "ignore_eos"));
  if (ignore_eos) g.ignore_eos = *ignore_eos;
  ASSIGN_OR_RETURN(std::optional<bool> skip_special, GetBool(body, "skip_special_tokens"));
  if (skip_special) g.skip_special_tokens = *skip_special;
  RETURN_IF_ERROR(ParseStop(body, &g.stop));

  ASSIGN_OR_RETURN(std::optional<int64_t> n, GetInteger(body, "n", 1, kInt32Max));
  if (n && *n != 1) {
    return FieldError("n", absl::StrCat("ember returns one choice per request, got n = ", *n,
                                        "; send ", *n, " requests (with different seeds) instead"));
  }
  RETURN_IF_ERROR(
      RefuseUnless(body, "logit_bias", nlohmann::json::object(), "logit_bias is not supported"));
  RETURN_IF_ERROR(RefuseUnless(body, "min_tokens", 0, "min_tokens is not supported"));
  RETURN_IF_ERROR(RefuseUnless(body, "best_of", 1, "only best_of = 1 is supported"));

  ASSIGN_OR_RETURN(std::optional<bool> stream, GetBool(body, "stream"));
  out->stream = stream.value_or(false);
  auto options = body.find("stream_options");
  if (options != body.end() && !options->is_null()) {
    if (!options->is_object()) {
      return FieldError("stream_options",
                        absl::StrCat("expected an object, got ", JsonTypeName(*options)));
    }
    if (!out->stream) return FieldError("stream_options", "only allowed with stream = true");
    auto include = GetBool(*options, "include_usage");
    if (!include.ok()) {
      return FieldError(
          "stream_options.include_usage",
          absl::StrCat("expected a boolean, got ", JsonTypeName((*options)["include_usage"])));
    }
    out->include_usage = include->value_or(false);
  }
  ASSIGN_OR_RETURN(std::optional<double> timeout, GetNumber(body, "timeout"));
  if (timeout) {
    if (!(*timeout > 0)) {
      return FieldError("timeout", absl::StrCat("must be > 0 seconds, got ", *timeout));
    }
    out->timeout = absl::Seconds(std::min(*timeout, 1e9));
  }
  return absl::OkStatus();
}

// `max_tokens` (and chat's newer `max_completion_tokens`): at least 1. Absent: the server's
// default.
absl::Status ParseMaxTokens(const nlohmann::json& body, absl::string_view field,
                            GenerationRequest* g) {
  ASSIGN_OR_RETURN(std::optional<int64_t> max_tokens, GetInteger(body, field, 1, kInt32Max));
  if (max_tokens) g->max_new_tokens = static_cast<int32_t>(*max_tokens);
  return absl::OkStatus();
}

// `prompt`: a string, an array of token ids, or a batch of exactly one of either.
absl::Status ParsePrompt(const nlohmann::json& body, GenerationRequest* g) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return FieldError("prompt", "required");
  const nlohmann::json* prompt = &*it;
  if (prompt->is_array() && !prompt->empty() &&
      (prompt->front().is_string() || prompt->front().is_array())) {
    if (prompt->size() != 1) {
      return FieldError("prompt", absl::StrCat("a batch of ", prompt->size(),
                                               " prompts; ember takes one prompt per request"));
    }
    prompt = &prompt->front();
  }
  if (prompt->is_string()) {
    g->prompt = prompt->get<std::string>();
    return absl::OkStatus();
  }
  if (prompt->is_array()) {
    ASSIGN_OR_RETURN(g->prompt_tokens, ToTokenIds(*prompt, "prompt"));
    if (g->prompt_tokens.empty()) return FieldError("prompt", "must not be empty");
    return absl::OkStatus();
  }
  return FieldError("prompt", absl::StrCat("expected a string or an array of token ids, got ",
                                           JsonTypeName(*prompt)));
}

// One message's content as the template sees it: a string; an array of text parts is joined with
// "\n" (vLLM's rule); null stays null (an assistant turn carrying only tool calls).
absl::StatusOr<nlohmann::json> MessageContent(const nlohmann::json& content,
                                              const std::string& where) {
  if (content.is_string() || content.is_null()) return content;
  if (!content.is_array()) {
    return FieldError(where, absl::StrCat("expected a string or an array of content parts, got ",
                                          JsonTypeName(content)));
  }
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const nlohmann::json& part = content[i];
    const std::string part_where = absl::StrCat(where, "[", i, "]");
    if (!part.is_object()) {
      return FieldError(part_where, absl::StrCat("expected an object, got ", JsonTypeName(part)));
    }
    ASSIGN_OR_RETURN(std::optional<std::string> type, GetString(part, "type"));
    if (type.value_or("") != "text") {
      return FieldError(absl::StrCat(part_where, ".type"),
                        absl::StrCat("only \"text\" parts are supported, got ",
                                     type ? absl::StrCat("\"", *type, "\"") : "none"));
    }
    auto part_text = GetString(part, "text");
    if (!part_text.ok() || !part_text->has_value()) {
      return FieldError(absl::StrCat(part_where, ".text"), "expected a string");
    }
    if (i > 0) text += "\n";
    text += **part_text;
  }
  return text;
}

absl::StatusOr<nlohmann::json> ParseMessages(const nlohmann::json& body) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) return FieldError("messages", "required");
  if (!it->is_array()) {
    return FieldError("messages", absl::StrCat("expected an array, got ", JsonTypeName(*it)));
  }
  if (it->empty()) return FieldError("messages", "must not be empty");
  nlohmann::json messages = nlohmann::json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& m = (*it)[i];
    const std::string where = absl::StrCat("messages[", i, "]");
    if (!m.is_object()) {
      return FieldError(where, absl::StrCat("expected an object, got ", JsonTypeName(m)));
    }
    auto role = GetString(m, "role");
    if (!role.ok() || !role->has_value()) {
      return FieldError(absl::StrCat(where, ".role"), "expected a string");
    }
    nlohmann::json message = m;
    auto content = m.find("content");
    ASSIGN_OR_RETURN(message["content"],
                     MessageContent(content == m.end() ? nlohmann::json() : *content,
                                    absl::StrCat(where, ".content")));
    messages.push_back(std::move(message));
  }
  return messages;
}

// The messages (already checked by ParseMessages) as the template gets them, keys in the order the
// client sent them: Python dicts keep insertion order, and a template printing a message or a
// tool schema with tojson shows it.
nlohmann::ordered_json OrderedMessages(const nlohmann::ordered_json& body) {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  for (const nlohmann::ordered_json& m : body.at("messages")) {
    nlohmann::ordered_json message = m;
    auto content = m.find("content");
    if (content == m.end()) {
      message["content"] = nullptr;
    } else if (content->is_array()) {
      std::string text;
      bool first = true;
      for (const nlohmann::ordered_json& part : *content) {
        if (!first) text += "\n";
        first = false;
        text += part.at("text").get<std::string>();
      }
      message["content"] = text;
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view body) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::exception& e) {
    // parse_error, or out_of_range for a number no double holds (1e400).
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 9: ...".
    std::string what = e.what();
    const size_t start = what.find("] ");
    return absl::InvalidArgumentError(
        absl::StrCat("request body: not valid JSON: ",
                     start == std::string::npos ? what : what.substr(start + 2)));
  }
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body: expected a JSON object, got ", JsonTypeName(json)));
  }
  return json;
}

absl::StatusOr<OpenAiRequest> ParseCompletionRequest(absl::string_view text) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(text));
  OpenAiRequest out;
  RETURN_IF_ERROR(ParseCommon(body, &out));
  RETURN_IF_ERROR(ParseMaxTokens(body, "max_tokens", &out.generation));
  RETURN_IF_ERROR(ParsePrompt(body, &out.generation));
  RETURN_IF_ERROR(RefuseUnless(body, "suffix", "", "suffix (insertion) is not supported"));
  ASSIGN_OR_RETURN(std::optional<bool> echo, GetBool(body, "echo"));
  out.echo = echo.value_or(false);
  // logprobs: how many alternatives per token (0: the chosen token's only). Ranges: the engine's.
  ASSIGN_OR_RETURN(std::optional<int64_t> logprobs, GetInteger(body, "logprobs", 0, kInt32Max));
  if (logprobs) {
    out.logprobs = true;
    out.generation.sampling.logprobs = true;
    out.generation.sampling.top_logprobs = static_cast<int32_t>(*logprobs);
    if (out.echo) {
      out.generation.prompt_logprobs = true;
      out.generation.prompt_top_logprobs = static_cast<int32_t>(*logprobs);
    }
  }
  return out;
}

absl::StatusOr<ChatRequest> ParseChatRequest(absl::string_view text) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(text));
  ChatRequest out;
  RETURN_IF_ERROR(ParseCommon(body, &out.common));
  GenerationRequest& g = out.common.generation;
  RETURN_IF_ERROR(ParseMaxTokens(body, "max_tokens", &g));
  RETURN_IF_ERROR(ParseMaxTokens(body, "max_completion_tokens", &g));
  RETURN_IF_ERROR(ParseMessages(body).status());
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(text.begin(), text.end());
  out.messages = OrderedMessages(ordered);
  ASSIGN_OR_RETURN(std::optional<bool> logprobs, GetBool(body, "logprobs"));
  ASSIGN_OR_RETURN(std::optional<int64_t> top, GetInteger(body, "top_logprobs", 0, kInt32Max));
  if (top && *top > 0 && !logprobs.value_or(false)) {
    return FieldError("top_logprobs", "needs logprobs = true");
  }
  if (logprobs.value_or(false)) {
    out.common.logprobs = true;
    g.sampling.logprobs = true;
    g.sampling.top_logprobs = static_cast<int32_t>(top.value_or(0));
  }
  RETURN_IF_ERROR(
      RefuseUnless(body, "tools", nlohmann::json::array(), "tool calling is not supported"));
  RETURN_IF_ERROR(RefuseUnless(body, "response_format", nlohmann::json{{"type", "text"}},
                               "only {\"type\": \"text\"} is supported"));
  ASSIGN_OR_RETURN(std::optional<bool> add_generation_prompt,
                   GetBool(body, "add_generation_prompt"));
  out.add_generation_prompt = add_generation_prompt.value_or(true);
  out.template_kwargs = nlohmann::ordered_json::object();
  auto kwargs = body.find("chat_template_kwargs");
  if (kwargs != body.end() && !kwargs->is_null()) {
    if (!kwargs->is_object()) {
      return FieldError("chat_template_kwargs",
                        absl::StrCat("expected an object, got ", JsonTypeName(*kwargs)));
    }
    out.template_kwargs = ordered.at("chat_template_kwargs");
  }
  return out;
}

}  // namespace ember::http
