// A Hugging Face chat template, rendered as transformers renders it (jinja2 3.1 in an
// ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, loopcontrols, and transformers'
// raise_exception, tojson and strftime_now), byte for byte; tests/chat_template_reference holds
// ember to Python's jinja2 on real templates.
//
// ember implements the subset of Jinja that chat templates use (see README in
// tests/chat_template_reference); a template using anything else fails to Parse, naming the
// construct, instead of rendering differently.
//
// Thread-safety: a ChatTemplate is immutable after Parse; copies share the parsed tree, and Render
// may run on any number of threads at once.
#ifndef EMBER_CORE_CHAT_CHAT_TEMPLATE_H_
#define EMBER_CORE_CHAT_CHAT_TEMPLATE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ember::chat {

struct Program;

class ChatTemplate {
 public:
  // Parses `source` (Jinja). INVALID_ARGUMENT naming an unsupported feature ("chat template uses
  // unsupported Jinja feature 'macro' at line 3") or a syntax error with its line.
  static absl::StatusOr<ChatTemplate> Parse(std::string source);

  // The template of a Hugging Face model directory: tokenizer_config.json's "chat_template" (a
  // string, or a list of {"name", "template"} objects, of which "default" is taken), else
  // chat_template.jinja. Special tokens (bos_token, eos_token, unk_token, pad_token, ...; a string
  // or an {"content": ...} object) come from tokenizer_config.json. nullopt when the model has no
  // template; an error naming the file when one exists but cannot be read or parsed.
  static absl::StatusOr<std::optional<ChatTemplate>> LoadFromModelDir(const std::string& dir);

  // Renders with the variables transformers passes: messages (a JSON array of {"role", "content",
  // ...}), add_generation_prompt, tools = None and documents = None, the special tokens, then every
  // key of `extra` (tools, enable_thinking, date_string, ...), which override the others.
  // raise_exception(msg) in the template gives INVALID_ARGUMENT with exactly msg; other render
  // failures (where jinja2 raises) give INVALID_ARGUMENT "chat template error at line N: ...".
  // nlohmann::json sorts object keys; pass ordered_json to keep the order the client sent, which
  // `tojson` of tool schemas prints (Python keeps insertion order).
  absl::StatusOr<std::string> Render(const nlohmann::json& messages, bool add_generation_prompt,
                                     const nlohmann::json& extra = nlohmann::json::object()) const;
  absl::StatusOr<std::string> Render(const nlohmann::ordered_json& messages,
                                     bool add_generation_prompt,
                                     const nlohmann::ordered_json& extra) const;

  // Special tokens from tokenizer_config.json; empty when absent (or after Parse).
  const std::string& bos_token() const;
  const std::string& eos_token() const;
  // The template's source text.
  const std::string& source() const { return source_; }

 private:
  ChatTemplate(std::string source, std::shared_ptr<const Program> program)
      : source_(std::move(source)), program_(std::move(program)) {}

  template <typename Json>
  absl::StatusOr<std::string> RenderImpl(const Json& messages, bool add_generation_prompt,
                                         const Json& extra) const;

  std::string source_;
  std::shared_ptr<const Program> program_;
  // Special token name ("bos_token", ...) -> text, as transformers' special_tokens_map passes them.
  std::map<std::string, std::string> special_tokens_;
};

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_CHAT_TEMPLATE_H_
