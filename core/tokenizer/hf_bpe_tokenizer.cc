#include "core/tokenizer/hf_bpe_tokenizer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/tokenizer/utf8.h"
#include "core/util/status_macros.h"

namespace ember::tokenizer_internal {

absl::StatusOr<std::unique_ptr<HfBpeTokenizer>> HfBpeTokenizer::Create(HfBpeParts parts) {
  std::unique_ptr<HfBpeTokenizer> t(new HfBpeTokenizer(std::move(parts)));

  int32_t size = 0;
  for (const auto& [token, id] : t->parts_.model->vocab()) size = std::max(size, id + 1);
  for (const AddedToken& token : t->parts_.added_tokens) size = std::max(size, token.id + 1);
  // The id table is dense: refuse ids so sparse that it would dwarf the file (one id near
  // kMaxTokenId in a small vocabulary would otherwise allocate hundreds of MB). Real tokenizers
  // number their tokens 0..n-1, with at most a few gaps.
  const int64_t defined =
      static_cast<int64_t>(t->parts_.model->vocab().size() + t->parts_.added_tokens.size());
  if (size > 2 * defined + 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("model.vocab and added_tokens: token ids reach ", size - 1, " but only ",
                     defined, " tokens are defined; ids must be numbered densely from 0"));
  }
  t->id_to_token_.resize(size);
  t->id_flags_.assign(size, 0);
  for (const auto& [token, id] : t->parts_.model->vocab()) {
    t->id_to_token_[id] = token;
    t->id_flags_[id] = kPresent;
  }

  // tokenizers builds two matchers: tokens with normalized == false are found in the raw input,
  // the others (their content normalized the same way as the text) in each normalized stretch.
  std::vector<std::pair<std::string, const AddedToken*>> raw;
  std::vector<std::pair<std::string, const AddedToken*>> normalized;
  for (const AddedToken& token : t->parts_.added_tokens) {
    t->added_ids_.try_emplace(token.content, token.id);
    t->id_to_token_[token.id] = token.content;
    t->id_flags_[token.id] = kPresent | (token.special ? kSpecial : 0);
    if (!token.normalized) {
      raw.emplace_back(token.content, &token);
      continue;
    }
    std::string pattern = token.content;
    if (t->parts_.normalizer != nullptr) {
      if (absl::Status normalized_status = t->parts_.normalizer->Normalize(&pattern);
          !normalized_status.ok()) {
        return absl::Status(normalized_status.code(),
                            absl::StrCat("added_tokens: ", normalized_status.message()));
      }
    }
    // tokenizers 0.23 also decodes such a token as its normalized form (IdToToken too), while
    // TokenToId still answers for the original content.
    t->id_to_token_[token.id] = pattern;
    normalized.emplace_back(std::move(pattern), &token);
  }
  t->raw_matcher_ = std::make_unique<AddedTokenMatcher>(raw);
  t->normalized_matcher_ = std::make_unique<AddedTokenMatcher>(normalized);
  return t;
}

absl::StatusOr<std::vector<int32_t>> HfBpeTokenizer::Encode(absl::string_view text,
                                                            bool add_special_tokens) const {
  if (const size_t bad = FindInvalidUtf8(text); bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("Encode: the text is not valid UTF-8 (byte offset ", bad, ")"));
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);  // about 4 bytes per token in English; avoids regrowing
  std::vector<TextSegment> segments;
  raw_matcher_->Split(text, &segments);
  std::string normalized;
  for (const TextSegment& segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    const absl::string_view stretch = text.substr(segment.begin, segment.end - segment.begin);
    const bool at_input_start = segment.begin == 0;
    if (parts_.normalizer == nullptr) {
      RETURN_IF_ERROR(EncodeNormalized(stretch, at_input_start, &ids));
      continue;
    }
    normalized.assign(stretch.data(), stretch.size());
    RETURN_IF_ERROR(parts_.normalizer->Normalize(&normalized));
    RETURN_IF_ERROR(EncodeNormalized(normalized, at_input_start, &ids));
  }
  if (add_special_tokens && parts_.post_processor != nullptr) {
    parts_.post_processor->Process(&ids);
  }
  return ids;
}

absl::Status HfBpeTokenizer::EncodeNormalized(absl::string_view text, bool at_input_start,
                                              std::vector<int32_t>* ids) const {
  if (normalized_matcher_->empty()) return EncodePlain(text, at_input_start, ids);
  std::vector<TextSegment> segments;
  normalized_matcher_->Split(text, &segments);
  for (const TextSegment& segment : segments) {
    if (segment.id >= 0) {
      ids->push_back(segment.id);
    } else {
      RETURN_IF_ERROR(EncodePlain(text.substr(segment.begin, segment.end - segment.begin),
                                  at_input_start && segment.begin == 0, ids));
    }
  }
  return absl::OkStatus();
}

absl::Status HfBpeTokenizer::EncodePlain(absl::string_view text, bool at_input_start,
                                         std::vector<int32_t>* ids) const {
  // Empty stretches (between adjacent added tokens, or emptied by the normalizer) produce nothing,
  // as tokenizers drops empty splits.
  if (text.empty()) return absl::OkStatus();
  if (parts_.pre_tokenizer == nullptr) {
    parts_.model->Tokenize(text, ids);
    return absl::OkStatus();
  }
  return parts_.pre_tokenizer->Apply(PreToken{text, at_input_start},
                                     [this, ids](const PreToken& piece) {
                                       parts_.model->Tokenize(piece.text, ids);
                                       return absl::OkStatus();
                                     });
}

absl::StatusOr<std::string> HfBpeTokenizer::Decode(absl::Span<const int32_t> ids,
                                                   bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= VocabSize()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Decode: id ", id, " is outside the vocabulary [0, ", VocabSize(), ")"));
    }
    // Like tokenizers, ids that name no token (holes in the vocabulary) are skipped.
    if ((id_flags_[id] & kPresent) == 0) continue;
    if (skip_special_tokens && (id_flags_[id] & kSpecial) != 0) continue;
    tokens.push_back(id_to_token_[id]);
  }
  if (parts_.decoder == nullptr) return absl::StrJoin(tokens, " ");
  RETURN_IF_ERROR(parts_.decoder->DecodeChain(&tokens));
  return absl::StrJoin(tokens, "");
}

std::optional<int32_t> HfBpeTokenizer::TokenToId(absl::string_view token) const {
  if (auto it = added_ids_.find(token); it != added_ids_.end()) return it->second;
  const BpeVocab& vocab = parts_.model->vocab();
  if (auto it = vocab.find(token); it != vocab.end()) return it->second;
  return std::nullopt;
}

std::string HfBpeTokenizer::IdToToken(int32_t id) const {
  if (id < 0 || id >= VocabSize()) return "";
  return id_to_token_[id];
}

bool HfBpeTokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && id < VocabSize() && (id_flags_[id] & kSpecial) != 0;
}

}  // namespace ember::tokenizer_internal
