// ChatTemplate::LoadFromModelDir: where a Hugging Face model directory keeps its chat template and
// special tokens (tokenizer_config.json, chat_template.jinja).
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/chat/chat_template.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace ember::chat {
namespace {

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// transformers' special_tokens_map keys that a template may reference.
constexpr const char* kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

}  // namespace

absl::StatusOr<std::optional<ChatTemplate>> ChatTemplate::LoadFromModelDir(const std::string& dir) {
  const std::string config_path = JoinPath(dir, "tokenizer_config.json");
  nlohmann::json config = nlohmann::json::object();
  if (FileExists(config_path)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(config_path));
    config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object())
      return FileError(config_path, "is not a JSON object");
  }

  std::optional<std::string> source;
  std::string source_path = config_path;
  if (auto it = config.find("chat_template"); it != config.end() && !it->is_null()) {
    if (it->is_string()) {
      source = it->get<std::string>();
    } else if (it->is_array()) {
      for (const auto& entry : *it) {
        if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
            !entry["name"].is_string() || !entry["template"].is_string()) {
          return FileError(config_path,
                           "chat_template list entries must be {\"name\": str, \"template\": str}");
        }
        if (entry["name"] == "default") source = entry["template"].get<std::string>();
      }
      if (!source.has_value())
        return FileError(config_path, "chat_template list has no \"default\" entry");
    } else {
      return FileError(config_path, "chat_template must be a string or a list of named templates");
    }
  } else {
    const std::string jinja_path = JoinPath(dir, "chat_template.jinja");
    if (FileExists(jinja_path)) {
      ASSIGN_OR_RETURN(source, ReadFileToString(jinja_path));
      source_path = jinja_path;
    }
  }
  if (!source.has_value()) return std::optional<ChatTemplate>();

  absl::StatusOr<ChatTemplate> parsed = Parse(std::move(*source));
  if (!parsed.ok()) return FileError(source_path, parsed.status().message());
  for (const char* name : kSpecialTokens) {
    auto it = config.find(name);
    if (it == config.end()) continue;
    if (it->is_string()) {
      parsed->special_tokens_[name] = it->get<std::string>();
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      parsed->special_tokens_[name] = (*it)["content"].get<std::string>();
    } else if (!it->is_null()) {
      return FileError(config_path,
                       absl::StrCat(name, " must be a string or an object with \"content\""));
    }
  }
  return std::optional<ChatTemplate>(std::move(*parsed));
}

}  // namespace ember::chat
