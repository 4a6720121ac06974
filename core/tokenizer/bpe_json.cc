#include "core/tokenizer/bpe_json.h"

#include <algorithm>
#include <stdexcept>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/hf_bpe_tokenizer.h"

namespace ember::tokenizer_internal {
namespace {

// Deeper nesting than any tokenizer file uses is refused, which bounds the work a hostile file
// can cause.
constexpr int kMaxJsonDepth = 64;

struct TooDeep : std::runtime_error {
  TooDeep() : std::runtime_error("too deep") {}
};

std::string Quoted(absl::string_view token) { return absl::StrCat("\"", token, "\""); }

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonDocument(absl::string_view text, absl::string_view source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end(),
                                 [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                   if (depth > kMaxJsonDepth) throw TooDeep();
                                   return true;
                                 });
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": invalid JSON: arrays/objects nested more than ", kMaxJsonDepth, " deep"));
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid JSON: ", e.what()));
  }
}

absl::StatusOr<BpeVocab> ParseBpeVocab(const JsonField& field) {
  if (absl::Status s = field.ExpectObject(); !s.ok()) return s;
  BpeVocab vocab;
  vocab.reserve(field.json().size());
  absl::flat_hash_map<int32_t, std::string> token_of_id;
  token_of_id.reserve(field.json().size());
  for (auto it = field.json().begin(); it != field.json().end(); ++it) {
    const std::string& token = it.key();
    const nlohmann::json& value = it.value();
    if (!value.is_number_integer()) {
      return field.Error(absl::StrCat("token ", Quoted(token), " has id ", DescribeJsonValue(value),
                                      " (expected an integer)"));
    }
    const bool in_range = value.is_number_unsigned()
                              ? value.get<uint64_t>() < kMaxTokenId
                              : value.get<int64_t>() >= 0 && value.get<int64_t>() < kMaxTokenId;
    if (!in_range) {
      return field.Error(absl::StrCat("token ", Quoted(token), " has id ", value.dump(),
                                      ", outside [0, ", kMaxTokenId, ")"));
    }
    const auto id = static_cast<int32_t>(value.get<int64_t>());
    auto [previous, inserted] = token_of_id.try_emplace(id, token);
    if (!inserted) {
      return field.Error(absl::StrCat("id ", id, " is used by both ", Quoted(previous->second),
                                      " and ", Quoted(token)));
    }
    vocab.emplace(token, id);
  }
  return vocab;
}

bool SplitMergeLine(absl::string_view line, std::pair<std::string, std::string>* merge) {
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos || line.find(' ', space + 1) != absl::string_view::npos) {
    return false;
  }
  merge->first = std::string(line.substr(0, space));
  merge->second = std::string(line.substr(space + 1));
  return true;
}

absl::StatusOr<std::vector<AddedToken>> ParseAddedTokens(const JsonField& field,
                                                         const BpeVocab& vocab) {
  std::vector<AddedToken> tokens;
  if (field.is_null()) return tokens;
  auto size = field.ArraySize();
  if (!size.ok()) return size.status();

  int32_t vocab_end = 0;
  for (const auto& [token, id] : vocab) vocab_end = std::max(vocab_end, id + 1);
  std::vector<const std::string*> vocab_token(vocab_end, nullptr);
  for (const auto& [token, id] : vocab) vocab_token[id] = &token;

  // tokenizers ignores the ids written in the file: a token already in model.vocab keeps its
  // vocabulary id, and any other token takes the next id after the vocabulary (by entry count) or
  // after the largest added id. A file whose ids disagree is refused rather than silently
  // renumbered, so ids never differ from either the file or tokenizers.
  absl::flat_hash_map<std::string, size_t> index_of_content;  // into `tokens`
  absl::flat_hash_map<int32_t, std::string> content_of_id;
  const auto vocab_count = static_cast<int64_t>(vocab.size());
  int64_t max_added = -1;
  for (size_t i = 0; i < *size; ++i) {
    const JsonField entry = field.At(i);
    if (absl::Status s = entry.ExpectObject(); !s.ok()) return s;
    AddedToken token;
    auto id = entry["id"].Int();
    if (!id.ok()) return id.status();
    if (*id < 0 || *id >= kMaxTokenId) {
      return entry["id"].Error(absl::StrCat("id ", *id, " is outside [0, ", kMaxTokenId, ")"));
    }
    token.id = static_cast<int32_t>(*id);
    auto content = entry["content"].String();
    if (!content.ok()) return content.status();
    token.content = std::move(*content);
    auto special = entry["special"].BoolOr(false);
    auto normalized = entry["normalized"].BoolOr(!special.value_or(false));
    auto single_word = entry["single_word"].BoolOr(false);
    auto lstrip = entry["lstrip"].BoolOr(false);
    auto rstrip = entry["rstrip"].BoolOr(false);
    for (const auto* flag : {&special, &normalized, &single_word, &lstrip, &rstrip}) {
      if (!flag->ok()) return flag->status();
    }
    token.special = *special;
    token.normalized = *normalized;
    token.single_word = *single_word;
    token.lstrip = *lstrip;
    token.rstrip = *rstrip;
    if (token.content.empty()) continue;  // tokenizers ignores these

    int64_t expected;
    const auto previous = index_of_content.find(token.content);
    const auto in_vocab = vocab.find(token.content);
    if (previous != index_of_content.end()) {
      expected = tokens[previous->second].id;
    } else if (in_vocab != vocab.end()) {
      expected = in_vocab->second;
    } else if (max_added < 0) {
      expected = vocab_count;
    } else {
      expected = max_added >= vocab_count || vocab_count == 0 ? max_added + 1 : vocab_count;
    }
    if (token.id != expected) {
      return entry["id"].Error(absl::StrCat(
          "added token ", Quoted(token.content), " has id ", token.id,
          " but Hugging Face tokenizers gives it id ", expected,
          " (a token in model.vocab keeps its id; others follow the vocabulary and the "
          "previous added tokens without gaps)"));
    }
    if (token.id < vocab_end && vocab_token[token.id] != nullptr &&
        *vocab_token[token.id] != token.content) {
      return entry["id"].Error(absl::StrCat("id ", token.id, " of added token ",
                                            Quoted(token.content), " belongs to model.vocab token ",
                                            Quoted(*vocab_token[token.id])));
    }
    if (auto it = content_of_id.find(token.id);
        it != content_of_id.end() && it->second != token.content) {
      return entry["id"].Error(absl::StrCat("id ", token.id, " is used by both added tokens ",
                                            Quoted(it->second), " and ", Quoted(token.content)));
    }
    max_added = std::max<int64_t>(max_added, token.id);
    if (previous != index_of_content.end()) {
      tokens[previous->second] = std::move(token);  // a repeat updates the options, as tokenizers
      continue;
    }
    index_of_content.emplace(token.content, tokens.size());
    content_of_id.emplace(token.id, token.content);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace ember::tokenizer_internal
