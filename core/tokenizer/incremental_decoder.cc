#include "core/tokenizer/incremental_decoder.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

constexpr absl::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Byte-fallback tokens are spelled "<0xNN>" (uppercase hex) in SentencePiece models and in the
// tokenizer.json files converted from them.
bool IsByteFallbackSpelling(absl::string_view token) {
  return token.size() == 6 && absl::StartsWith(token, "<0x") && IsHexDigit(token[3]) &&
         IsHexDigit(token[4]) && token[5] == '>';
}

// A token whose text stays a fixed prefix of whatever follows it; see the header. Plain ASCII
// candidates are tried in turn; every tokenizer in practice has "a" as one ordinary token.
std::optional<int32_t> FindAnchor(const Tokenizer& tokenizer, bool skip_special_tokens) {
  for (const absl::string_view candidate : {"a", "e", "x", "0", "the", ".", ","}) {
    const absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode(candidate, false);
    if (!ids.ok() || ids->size() != 1) continue;
    const int32_t id = (*ids)[0];
    if (tokenizer.IsSpecial(id) || IsByteFallbackSpelling(tokenizer.IdToToken(id))) continue;
    const int32_t pair[] = {id, id};
    const absl::StatusOr<std::string> once = tokenizer.Decode({id}, skip_special_tokens);
    const absl::StatusOr<std::string> twice = tokenizer.Decode(pair, skip_special_tokens);
    if (!once.ok() || !twice.ok() || once->empty() || absl::EndsWith(*once, kReplacementChar) ||
        !absl::StartsWith(*twice, *once)) {
      continue;
    }
    return id;
  }
  return std::nullopt;
}

}  // namespace

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer),
      skip_special_tokens_(skip_special_tokens),
      anchor_(FindAnchor(tokenizer, skip_special_tokens)) {}

absl::StatusOr<std::string> IncrementalDecoder::Push(int32_t id) {
  if (id < 0 || id >= tokenizer_.VocabSize()) {
    return absl::InvalidArgumentError(absl::StrCat("IncrementalDecoder: token id ", id,
                                                   " is outside the vocabulary [0, ",
                                                   tokenizer_.VocabSize(), ")"));
  }
  // Decode(skip_special_tokens=true) drops special ids before decoding anything, so they cannot
  // change the text: dropping them here keeps windows short.
  if (skip_special_tokens_ && tokenizer_.IsSpecial(id)) return std::string();
  window_.push_back(id);
  // A byte-fallback run may still continue, and its text is final only when it ends.
  if (IsByteFallbackToken(id)) return std::string();
  return EmitFinalText();
}

absl::StatusOr<std::string> IncrementalDecoder::EmitFinalText() {
  absl::StatusOr<std::string> text = tokenizer_.Decode(window_, skip_special_tokens_);
  if (!text.ok()) {
    window_.pop_back();
    return text.status();
  }
  // Not final: nothing new, a trailing U+FFFD that the next token may complete, or (for a decoder
  // that is not prefix-stable) text that rewrites what was already emitted.
  if (text->size() <= prefix_text_.size() || absl::EndsWith(*text, kReplacementChar) ||
      !absl::StartsWith(*text, prefix_text_)) {
    return std::string();
  }
  std::string piece = text->substr(prefix_text_.size());
  RETURN_IF_ERROR(StartNextWindow());
  return piece;
}

absl::Status IncrementalDecoder::StartNextWindow() {
  std::vector<int32_t> next;
  if (!anchor_.has_value()) {
    // vLLM's window: the tokens emitted last are the only context.
    next.assign(window_.begin() + static_cast<std::ptrdiff_t>(read_offset_), window_.end());
  } else {
    // The first emission ends the start of the text; from then on the anchor stands in for it.
    // Until then window_ has no anchor and all of it was just emitted, so all of it is context.
    const size_t context_begin = anchored_ ? read_offset_ : 0;
    next.reserve(window_.size() - context_begin + 1);
    next.push_back(*anchor_);
    next.insert(next.end(), window_.begin() + static_cast<std::ptrdiff_t>(context_begin),
                window_.end());
  }
  absl::StatusOr<std::string> context_text = tokenizer_.Decode(next, skip_special_tokens_);
  if (!context_text.ok()) return context_text.status();
  window_ = std::move(next);
  read_offset_ = window_.size();
  prefix_text_ = *std::move(context_text);
  anchored_ = anchor_.has_value();
  return absl::OkStatus();
}

std::string IncrementalDecoder::Flush() {
  std::string rest;
  absl::StatusOr<std::string> text = tokenizer_.Decode(window_, skip_special_tokens_);
  if (text.ok()) {
    size_t common = 0;
    while (common < text->size() && common < prefix_text_.size() &&
           (*text)[common] == prefix_text_[common]) {
      ++common;
    }
    // Only a decoder that is not prefix-stable gets here with common < prefix_text_.size(); cut
    // at a character boundary so the piece stays valid UTF-8.
    while (common > 0 && common < text->size() &&
           (static_cast<unsigned char>((*text)[common]) & 0xC0) == 0x80) {
      --common;
    }
    rest = text->substr(common);
  }
  window_.clear();
  read_offset_ = 0;
  prefix_text_.clear();
  anchored_ = false;
  return rest;
}

bool IncrementalDecoder::IsByteFallbackToken(int32_t id) const {
  return !tokenizer_.IsSpecial(id) && IsByteFallbackSpelling(tokenizer_.IdToToken(id));
}

}  // namespace ember
