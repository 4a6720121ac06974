#include "core/chat/chat_template.h"

#include <string>
#include <utility>

#include "core/chat/ast.h"
#include "core/chat/evaluator.h"
#include "core/chat/parser.h"
#include "core/chat/value.h"
#include "core/util/status_macros.h"

namespace ember::chat {

absl::StatusOr<ChatTemplate> ChatTemplate::Parse(std::string source) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Program> program, ParseTemplate(source));
  return ChatTemplate(std::move(source), std::move(program));
}

const std::string& ChatTemplate::bos_token() const {
  static const std::string* const kEmpty = new std::string();
  auto it = special_tokens_.find("bos_token");
  return it == special_tokens_.end() ? *kEmpty : it->second;
}

const std::string& ChatTemplate::eos_token() const {
  static const std::string* const kEmpty = new std::string();
  auto it = special_tokens_.find("eos_token");
  return it == special_tokens_.end() ? *kEmpty : it->second;
}

template <typename Json>
absl::StatusOr<std::string> ChatTemplate::RenderImpl(const Json& messages,
                                                     bool add_generation_prompt,
                                                     const Json& extra) const {
  if (!extra.is_object())
    return absl::InvalidArgumentError("chat template extra variables must be a JSON object");
  // The order of transformers' render(messages=, tools=, documents=, add_generation_prompt=,
  // **special_tokens_map, **kwargs): later keys override earlier ones.
  ValueDict vars;
  vars.Set("messages", Value::FromJson(messages));
  vars.Set("tools", Value::None());
  vars.Set("documents", Value::None());
  vars.Set("add_generation_prompt", Value::Bool(add_generation_prompt));
  for (const auto& [name, text] : special_tokens_) vars.Set(name, Value::String(text));
  for (auto it = extra.begin(); it != extra.end(); ++it)
    vars.Set(it.key(), Value::FromJson(it.value()));
  return RenderProgram(*program_, std::move(vars));
}

absl::StatusOr<std::string> ChatTemplate::Render(const nlohmann::json& messages,
                                                 bool add_generation_prompt,
                                                 const nlohmann::json& extra) const {
  return RenderImpl(messages, add_generation_prompt, extra);
}

absl::StatusOr<std::string> ChatTemplate::Render(const nlohmann::ordered_json& messages,
                                                 bool add_generation_prompt,
                                                 const nlohmann::ordered_json& extra) const {
  return RenderImpl(messages, add_generation_prompt, extra);
}

}  // namespace ember::chat
