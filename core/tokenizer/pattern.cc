#include "core/tokenizer/pattern.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ember::tokenizer_internal {

absl::StatusOr<Pattern> Pattern::Literal(absl::string_view literal) {
  Pattern pattern;
  if (literal.empty()) {
    // An empty literal compiles to the empty regex, which matches between every character; going
    // through the regex keeps the exact iteration rules for that case.
    auto regex = Regex::FromPcre2("");
    if (!regex.ok()) return regex.status();
    pattern.regex_ = std::move(*regex);
    return pattern;
  }
  pattern.literal_ = std::string(literal);
  return pattern;
}

absl::StatusOr<Pattern> Pattern::OnigurumaRegex(absl::string_view source) {
  auto regex = Regex::FromOniguruma(source);
  if (!regex.ok()) return regex.status();
  Pattern pattern;
  pattern.regex_ = std::move(*regex);
  return pattern;
}

absl::StatusOr<Pattern> Pattern::Pcre2Regex(absl::string_view source) {
  auto regex = Regex::FromPcre2(source);
  if (!regex.ok()) return regex.status();
  Pattern pattern;
  pattern.regex_ = std::move(*regex);
  return pattern;
}

absl::Status Pattern::FindMatches(absl::string_view text, bool invert,
                                  std::vector<PatternSpan>* out) const {
  out->clear();
  return ForEachSpan(text, invert, [out](const PatternSpan& span) {
    out->push_back(span);
    return absl::OkStatus();
  });
}

absl::Status Pattern::ForEachSpan(absl::string_view text, bool invert,
                                  absl::FunctionRef<absl::Status(const PatternSpan&)> fn) const {
  if (text.empty()) return fn({0, 0, invert});
  size_t previous = 0;
  auto on_match = [&](const MatchSpan& m) -> absl::Status {
    if (previous != m.begin) {
      if (absl::Status s = fn({previous, m.begin, invert}); !s.ok()) return s;
    }
    previous = m.end;
    return fn({m.begin, m.end, !invert});
  };
  if (regex_ != nullptr) {
    if (absl::Status s = regex_->ForEachMatch(text, on_match); !s.ok()) return s;
  } else {
    size_t pos = 0;
    while ((pos = text.find(literal_, pos)) != absl::string_view::npos) {
      if (absl::Status s = on_match({pos, pos + literal_.size()}); !s.ok()) return s;
      pos += literal_.size();
    }
  }
  if (previous != text.size()) return fn({previous, text.size(), invert});
  return absl::OkStatus();
}

absl::StatusOr<SplitBehavior> ParseSplitBehavior(absl::string_view name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown split behavior \"", name,
      "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)"));
}

void ApplySplitBehavior(const std::vector<PatternSpan>& spans, SplitBehavior behavior,
                        std::vector<MatchSpan>* pieces) {
  pieces->clear();
  auto collect = [pieces](const MatchSpan& piece) {
    pieces->push_back(piece);
    return absl::OkStatus();
  };
  StreamingSplitter splitter(behavior, collect);
  for (const PatternSpan& span : spans) splitter.Add(span).IgnoreError();
  splitter.Finish().IgnoreError();
}

// Each behaviour is tokenizers' fold over the spans, with the one piece the fold may still extend
// held in `pending_`. MergedWithNext is written in tokenizers as a fold from the right; read from
// the left it says: a match joins the span after it when that span is not a match.
absl::Status StreamingSplitter::Add(const PatternSpan& span) {
  const MatchSpan piece{span.begin, span.end};
  switch (behavior_) {
    case SplitBehavior::kIsolated:
      return piece.begin == piece.end ? absl::OkStatus() : emit_(piece);
    case SplitBehavior::kRemoved:
      return span.is_match || piece.begin == piece.end ? absl::OkStatus() : emit_(piece);
    case SplitBehavior::kContiguous:
    case SplitBehavior::kMergedWithPrevious: {
      const bool extend = behavior_ == SplitBehavior::kContiguous
                              ? span.is_match == previous_match_
                              : span.is_match && !previous_match_;
      previous_match_ = span.is_match;
      if (extend && has_pending_) {
        pending_.end = span.end;
        return absl::OkStatus();
      }
      absl::Status s = EmitPending();
      has_pending_ = true;
      pending_ = piece;
      return s;
    }
    case SplitBehavior::kMergedWithNext: {
      if (has_pending_ && pending_is_match_ && !span.is_match) {
        pending_.end = span.end;
        pending_is_match_ = false;
        return EmitPending();
      }
      absl::Status s = EmitPending();
      if (!s.ok()) return s;
      if (span.is_match) {
        has_pending_ = true;
        pending_is_match_ = true;
        pending_ = piece;
        return absl::OkStatus();
      }
      return piece.begin == piece.end ? absl::OkStatus() : emit_(piece);
    }
  }
  return absl::OkStatus();
}

absl::Status StreamingSplitter::Finish() { return EmitPending(); }

absl::Status StreamingSplitter::EmitPending() {
  if (!has_pending_) return absl::OkStatus();
  has_pending_ = false;
  if (pending_.begin == pending_.end) return absl::OkStatus();
  return emit_(pending_);
}

}  // namespace ember::tokenizer_internal
