#include "tools/make_model/tokenizer_files.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace ember::tools {
namespace {

using OrderedJson = nlohmann::ordered_json;
using Json = nlohmann::json;

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581

// Qwen2's pre-tokenizer pattern, as its tokenizer.json spells it.
constexpr char kQwen2Pattern[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Qwen2-Instruct's chat template (ChatML).
constexpr char kChatMlTemplate[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// Placeholders swapped for the hand-rendered vocabulary and merges after dumping: nlohmann's
// ordered_json inserts in linear time per key, quadratic for a 50k-entry vocabulary.
constexpr char kVocabMark[] = "@@ember-vocab@@";
constexpr char kMergesMark[] = "@@ember-merges@@";

std::string Quote(const std::string& text) {
  return Json(text).dump(-1, ' ', false, Json::error_handler_t::strict);
}

OrderedJson ByteLevel(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

OrderedJson LlamaPostProcessor() {
  const auto special = [](int type_id) {
    return OrderedJson{{"SpecialToken", {{"id", "<s>"}, {"type_id", type_id}}}};
  };
  const auto sequence = [](const char* id, int type_id) {
    return OrderedJson{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
  };
  OrderedJson processor = {{"type", "TemplateProcessing"}};
  processor["single"] = {special(0), sequence("A", 0)};
  processor["pair"] = {special(0), sequence("A", 0), special(1), sequence("B", 1)};
  processor["special_tokens"] = {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}};
  return processor;
}

OrderedJson LlamaDecoder() {
  return {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", kSpaceMark}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
}

// A token's entry in tokenizer_config.json's added_tokens_decoder / special_tokens_map.json.
Json TokenEntry(const std::string& content, bool normalized) {
  return {{"content", content},
          {"lstrip", false},
          {"normalized", normalized},
          {"rstrip", false},
          {"single_word", false}};
}

}  // namespace

std::string TokenizerJson(const TrainedTokenizer& t) {
  const bool llama = t.style == TokenizerStyle::kLlamaSentencePiece;
  const bool qwen = t.style == TokenizerStyle::kQwen2ByteLevel;
  OrderedJson doc;
  doc["version"] = "1.0";
  doc["truncation"] = nullptr;
  doc["padding"] = nullptr;
  doc["added_tokens"] = OrderedJson::array();
  for (const AddedToken& token : t.added_tokens) {
    doc["added_tokens"].push_back({{"id", token.id},
                                   {"content", token.content},
                                   {"single_word", false},
                                   {"lstrip", false},
                                   {"rstrip", false},
                                   {"normalized", token.normalized},
                                   {"special", true}});
  }
  if (llama) {
    doc["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", kSpaceMark}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}}}}};
    doc["pre_tokenizer"] = nullptr;
    doc["post_processor"] = LlamaPostProcessor();
    doc["decoder"] = LlamaDecoder();
  } else if (qwen) {
    doc["normalizer"] = {{"type", "NFC"}};
    OrderedJson split = {{"type", "Split"},
                         {"pattern", {{"Regex", kQwen2Pattern}}},
                         {"behavior", "Isolated"},
                         {"invert", false}};
    doc["pre_tokenizer"] = {{"type", "Sequence"},
                            {"pretokenizers", {split, ByteLevel(false, false, false)}}};
    doc["post_processor"] = ByteLevel(false, false, false);
    doc["decoder"] = ByteLevel(false, false, false);
  } else {
    doc["normalizer"] = nullptr;
    doc["pre_tokenizer"] = ByteLevel(false, true, true);
    doc["post_processor"] = ByteLevel(true, false, true);
    doc["decoder"] = ByteLevel(true, true, true);
  }
  OrderedJson model;
  model["type"] = "BPE";
  model["dropout"] = nullptr;
  if (llama) {
    model["unk_token"] = "<unk>";
    model["continuing_subword_prefix"] = nullptr;
    model["end_of_word_suffix"] = nullptr;
    model["fuse_unk"] = true;
    model["byte_fallback"] = true;
  } else {
    model["unk_token"] = nullptr;
    model["continuing_subword_prefix"] = "";
    model["end_of_word_suffix"] = "";
    model["fuse_unk"] = false;
    model["byte_fallback"] = false;
  }
  model["vocab"] = kVocabMark;
  model["merges"] = kMergesMark;
  doc["model"] = std::move(model);
  std::string text = doc.dump(2, ' ', false, OrderedJson::error_handler_t::strict);

  // Entries sit at indent 6 inside "model" (indent 4), as the pretty printers of serde_json and
  // nlohmann both place them.
  std::string vocab = "{";
  for (size_t id = 0; id < t.vocab.size(); ++id) {
    absl::StrAppend(&vocab, id == 0 ? "\n" : ",\n", "      ", Quote(t.vocab[id]), ": ", id);
  }
  absl::StrAppend(&vocab, "\n    }");
  std::string merges = t.merges.empty() ? "[]" : "[";
  for (size_t i = 0; i < t.merges.size(); ++i) {
    absl::StrAppend(&merges, i == 0 ? "\n" : ",\n", "      ",
                    Quote(absl::StrCat(t.merges[i].first, " ", t.merges[i].second)));
  }
  if (!t.merges.empty()) absl::StrAppend(&merges, "\n    ]");
  return absl::StrReplaceAll(text, {{Quote(kVocabMark), vocab}, {Quote(kMergesMark), merges}});
}

std::string TokenizerConfigJson(const TrainedTokenizer& t, int64_t model_max_length) {
  Json config;
  Json decoder = Json::object();
  for (const AddedToken& token : t.added_tokens) {
    Json entry = TokenEntry(token.content, token.normalized);
    entry["special"] = true;
    decoder[std::to_string(token.id)] = std::move(entry);
  }
  config["added_tokens_decoder"] = std::move(decoder);
  config["model_max_length"] = model_max_length;
  config["clean_up_tokenization_spaces"] = false;
  switch (t.style) {
    case TokenizerStyle::kLlamaSentencePiece:
      config["add_bos_token"] = true;
      config["add_eos_token"] = false;
      config["additional_special_tokens"] = Json::array();
      config["bos_token"] = "<s>";
      config["eos_token"] = "</s>";
      config["legacy"] = true;
      config["pad_token"] = nullptr;
      config["sp_model_kwargs"] = Json::object();
      config["spaces_between_special_tokens"] = false;
      config["tokenizer_class"] = "LlamaTokenizer";
      config["unk_token"] = "<unk>";
      config["use_default_system_prompt"] = false;
      break;
    case TokenizerStyle::kGpt2ByteLevel:
      config["add_prefix_space"] = false;
      config["bos_token"] = "<|endoftext|>";
      config["clean_up_tokenization_spaces"] = true;
      config["eos_token"] = "<|endoftext|>";
      config["errors"] = "replace";
      config["pad_token"] = nullptr;
      config["tokenizer_class"] = "GPT2Tokenizer";
      config["unk_token"] = "<|endoftext|>";
      break;
    case TokenizerStyle::kQwen2ByteLevel:
      config["add_prefix_space"] = false;
      config["additional_special_tokens"] = {"<|im_start|>", "<|im_end|>"};
      config["bos_token"] = nullptr;
      config["chat_template"] = kChatMlTemplate;
      config["eos_token"] = t.TokenText(t.eos_id);
      config["errors"] = "replace";
      config["pad_token"] = t.TokenText(t.pad_id);
      config["split_special_tokens"] = false;
      config["tokenizer_class"] = "Qwen2Tokenizer";
      config["unk_token"] = nullptr;
      break;
  }
  return config.dump(2, ' ', false, Json::error_handler_t::strict) + "\n";
}

std::string SpecialTokensMapJson(const TrainedTokenizer& t) {
  Json map;
  switch (t.style) {
    case TokenizerStyle::kLlamaSentencePiece:
      map["bos_token"] = TokenEntry("<s>", false);
      map["eos_token"] = TokenEntry("</s>", false);
      map["unk_token"] = TokenEntry("<unk>", false);
      break;
    case TokenizerStyle::kGpt2ByteLevel:
      map["bos_token"] = "<|endoftext|>";
      map["eos_token"] = "<|endoftext|>";
      map["unk_token"] = "<|endoftext|>";
      break;
    case TokenizerStyle::kQwen2ByteLevel:
      map["additional_special_tokens"] = {"<|im_start|>", "<|im_end|>"};
      map["eos_token"] = TokenEntry(t.TokenText(t.eos_id), false);
      map["pad_token"] = TokenEntry(t.TokenText(t.pad_id), false);
      break;
  }
  return map.dump(2, ' ', false, Json::error_handler_t::strict) + "\n";
}

}  // namespace ember::tools
