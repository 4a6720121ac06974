// Splitting a string on a pattern the way Hugging Face `tokenizers` does (`Pattern::find_matches`
// plus `NormalizedString::split` with a SplitDelimiterBehavior). Shared by the Split, Metaspace,
// Digits and Whitespace pre-tokenizers and the Replace normalizer and decoder. Internal to
// core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_PATTERN_H_
#define EMBER_CORE_TOKENIZER_PATTERN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/regex.h"

namespace ember::tokenizer_internal {

// A stretch of the searched text and whether it is a match; a FindMatches result covers the whole
// text with contiguous, ordered spans.
struct PatternSpan {
  size_t begin = 0;
  size_t end = 0;
  bool is_match = false;
};

// A literal string or a regex. Literal matching is a plain non-overlapping substring search, which
// is what `tokenizers` gets from compiling the escaped string.
class Pattern {
 public:
  static absl::StatusOr<Pattern> Literal(absl::string_view literal);
  // An Oniguruma pattern from tokenizer.json.
  static absl::StatusOr<Pattern> OnigurumaRegex(absl::string_view pattern);
  // A pattern already in PCRE2 syntax (built-in pre-tokenizer patterns).
  static absl::StatusOr<Pattern> Pcre2Regex(absl::string_view pattern);

  // Spans covering `text`; an empty text gives one empty non-match span. With `invert`, every
  // span's is_match is flipped (tokenizers' `Invert`).
  absl::Status FindMatches(absl::string_view text, bool invert,
                           std::vector<PatternSpan>* out) const;

  // The same spans passed one at a time to `fn` (no list is built), stopping at its first error.
  absl::Status ForEachSpan(absl::string_view text, bool invert,
                           absl::FunctionRef<absl::Status(const PatternSpan&)> fn) const;

 private:
  std::string literal_;                 // used when regex_ is null
  std::shared_ptr<const Regex> regex_;  // shared: patterns are copied into several components
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Parses the tokenizer.json spelling ("Removed", "Isolated", ...).
absl::StatusOr<SplitBehavior> ParseSplitBehavior(absl::string_view name);

// Turns FindMatches spans into the pieces `NormalizedString::split` keeps, as [begin, end) spans.
// Empty pieces are dropped, as `PreTokenizedString::split` drops them.
void ApplySplitBehavior(const std::vector<PatternSpan>& spans, SplitBehavior behavior,
                        std::vector<MatchSpan>* pieces);

// ApplySplitBehavior one span at a time: Add() the spans in order, then Finish(); every kept,
// non-empty piece goes to `emit` as soon as it is known (at most one piece is held back). `emit`
// is referenced, not copied: it must outlive the splitter.
class StreamingSplitter {
 public:
  StreamingSplitter(SplitBehavior behavior, absl::FunctionRef<absl::Status(const MatchSpan&)> emit)
      : behavior_(behavior), emit_(emit) {}
  absl::Status Add(const PatternSpan& span);
  absl::Status Finish();

 private:
  absl::Status EmitPending();

  SplitBehavior behavior_;
  absl::FunctionRef<absl::Status(const MatchSpan&)> emit_;
  bool has_pending_ = false;
  bool pending_is_match_ = false;
  MatchSpan pending_;
  bool previous_match_ = false;
};

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_PATTERN_H_
