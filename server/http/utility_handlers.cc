// GET /v1/models, POST /tokenize, POST /detokenize (vLLM's shapes) and GET /health.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/http/http_server.h"
#include "server/http/json_fields.h"
#include "server/http/openai_request.h"
#include "server/http/openai_response.h"

namespace ember::http {

void HttpServer::HandleModels(const httplib::Request& /*request*/, httplib::Response& response) {
  constexpr const char* kMethod = "/v1/models";
  absl::StatusOr<std::shared_ptr<const Serving>> serving = CurrentServing();
  if (!serving.ok()) return ReplyError(kMethod, serving.status(), response);
  const ModelInfo& info = (*serving)->engine->model_info();
  static const int64_t started = absl::ToUnixSeconds(absl::Now());
  nlohmann::json model = {{"id", (*serving)->model_name},
                          {"object", "model"},
                          {"created", started},
                          {"owned_by", "ember"},
                          {"max_model_len", info.context_length}};
  ReplyJson(kMethod, Dump({{"object", "list"}, {"data", nlohmann::json::array({model})}}),
            response);
}

void HttpServer::HandleTokenize(const httplib::Request& request, httplib::Response& response) {
  constexpr const char* kMethod = "/tokenize";
  absl::StatusOr<std::shared_ptr<const Serving>> serving = CurrentServing();
  if (!serving.ok()) return ReplyError(kMethod, serving.status(), response);
  const Engine& engine = *(*serving)->engine;
  absl::StatusOr<nlohmann::json> body = ParseJsonObject(request.body);
  if (!body.ok()) return ReplyError(kMethod, body.status(), response);

  std::string prompt;
  bool add_special_tokens = true;
  if (body->contains("messages")) {
    // vLLM: a chat is rendered with the template, which writes its own special tokens.
    absl::StatusOr<ChatRequest> chat = ParseChatRequest(request.body);
    if (!chat.ok()) return ReplyError(kMethod, chat.status(), response);
    const absl::StatusOr<chat::ChatTemplate>& tmpl = (*serving)->chat_template;
    if (!tmpl.ok()) {
      return ReplyError(kMethod,
                        absl::InvalidArgumentError(absl::StrCat(
                            "messages: this model cannot render chats: ", tmpl.status().message())),
                        response);
    }
    absl::StatusOr<std::string> rendered =
        tmpl->Render(chat->messages, chat->add_generation_prompt, chat->template_kwargs);
    if (!rendered.ok()) {
      return ReplyError(
          kMethod,
          absl::InvalidArgumentError(absl::StrCat(
              "messages: the model's chat template refused them: ", rendered.status().message())),
          response);
    }
    prompt = std::move(*rendered);
    add_special_tokens = false;
  } else {
    absl::StatusOr<std::optional<std::string>> text = GetString(*body, "prompt");
    if (!text.ok()) return ReplyError(kMethod, text.status(), response);
    if (!text->has_value()) {
      return ReplyError(kMethod, absl::InvalidArgumentError("prompt: required (or messages)"),
                        response);
    }
    prompt = std::move(**text);
  }
  absl::StatusOr<std::optional<bool>> special = GetBool(*body, "add_special_tokens");
  if (!special.ok()) return ReplyError(kMethod, special.status(), response);
  if (special->has_value()) add_special_tokens = **special;
  if (prompt.size() > static_cast<size_t>(options_.max_receive_message_bytes)) {
    return ReplyError(kMethod, absl::InvalidArgumentError("prompt: too long"), response);
  }
  absl::StatusOr<std::vector<int32_t>> ids = engine.tokenizer().Encode(prompt, add_special_tokens);
  if (!ids.ok()) {
    return ReplyError(kMethod,
                      absl::InvalidArgumentError(absl::StrCat("prompt: ", ids.status().message())),
                      response);
  }
  nlohmann::json out = {{"count", ids->size()},
                        {"max_model_len", engine.model_info().context_length},
                        {"tokens", *ids}};
  if (body->contains("messages")) out["prompt"] = prompt;
  ReplyJson(kMethod, Dump(out), response);
}

void HttpServer::HandleDetokenize(const httplib::Request& request, httplib::Response& response) {
  constexpr const char* kMethod = "/detokenize";
  absl::StatusOr<std::shared_ptr<const Serving>> serving = CurrentServing();
  if (!serving.ok()) return ReplyError(kMethod, serving.status(), response);
  const Engine& engine = *(*serving)->engine;
  absl::StatusOr<nlohmann::json> body = ParseJsonObject(request.body);
  if (!body.ok()) return ReplyError(kMethod, body.status(), response);
  auto tokens = body->find("tokens");
  if (tokens == body->end() || tokens->is_null()) {
    return ReplyError(kMethod, absl::InvalidArgumentError("tokens: required"), response);
  }
  absl::StatusOr<std::vector<int32_t>> ids = ToTokenIds(*tokens, "tokens");
  if (!ids.ok()) return ReplyError(kMethod, ids.status(), response);
  const int64_t vocab = engine.model_info().vocab_size;
  for (size_t i = 0; i < ids->size(); ++i) {
    if ((*ids)[i] >= vocab) {
      return ReplyError(
          kMethod,
          absl::InvalidArgumentError(absl::StrCat("tokens[", i, "]: no such token id: ", (*ids)[i],
                                                  " (the vocabulary has ", vocab, ")")),
          response);
    }
  }
  absl::StatusOr<std::optional<bool>> skip = GetBool(*body, "skip_special_tokens");
  if (!skip.ok()) return ReplyError(kMethod, skip.status(), response);
  absl::StatusOr<std::string> text = engine.tokenizer().Decode(*ids, skip->value_or(false));
  if (!text.ok()) {
    return ReplyError(kMethod,
                      absl::InvalidArgumentError(absl::StrCat("tokens: ", text.status().message())),
                      response);
  }
  ReplyJson(kMethod, Dump({{"prompt", *text}}), response);
}

void HttpServer::HandleHealth(const httplib::Request& /*request*/, httplib::Response& response) {
  absl::StatusOr<std::shared_ptr<const Serving>> serving = CurrentServing();
  response.status = serving.ok() ? 200 : 503;
  response.set_content(
      serving.ok() ? std::string("{\"status\":\"serving\"}")
                   : Dump({{"status", "not_serving"}, {"reason", serving.status().message()}}),
      "application/json");
}

}  // namespace ember::http
