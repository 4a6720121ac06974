#include "core/tokenizer/pre_tokenizer.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pattern.h"
#include "core/tokenizer/pattern_json.h"
#include "core/tokenizer/unicode_classes.h"
#include "core/tokenizer/utf8.h"
#include "core/util/status_macros.h"

namespace ember::tokenizer_internal {
namespace {

// GPT-2's pre-tokenization regex (Oniguruma syntax), as in tokenizers' ByteLevel.
constexpr char kGpt2Regex[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Splits `piece` with `pattern` and `behavior` and sends each kept, non-empty part to `sink`, as
// the matches are found.
absl::Status SplitInto(const PreToken& piece, const Pattern& pattern, bool invert,
                       SplitBehavior behavior, PreTokenSink sink) {
  auto emit = [&](const MatchSpan& part) {
    return sink(PreToken{piece.text.substr(part.begin, part.end - part.begin),
                         piece.at_input_start && part.begin == 0});
  };
  StreamingSplitter splitter(behavior, emit);
  RETURN_IF_ERROR(pattern.ForEachSpan(piece.text, invert,
                                      [&](const PatternSpan& span) { return splitter.Add(span); }));
  return splitter.Finish();
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  absl::Status Apply(const PreToken& piece, PreTokenSink sink) const override {
    return ApplyFrom(0, piece, sink);
  }

 private:
  absl::Status ApplyFrom(size_t step, const PreToken& piece, PreTokenSink sink) const {
    if (step == steps_.size()) return sink(piece);
    return steps_[step]->Apply(
        piece, [&](const PreToken& part) { return ApplyFrom(step + 1, part, sink); });
  }

  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// Any pre-tokenizer that is one pattern split (Split, Digits, Whitespace, ...).
class PatternPreTokenizer : public PreTokenizer {
 public:
  PatternPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  absl::Status Apply(const PreToken& piece, PreTokenSink sink) const override {
    return SplitInto(piece, pattern_, invert_, behavior_, sink);
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  // `regex` is the GPT-2 pattern, or nullopt for use_regex: false.
  ByteLevelPreTokenizer(bool add_prefix_space, std::optional<Pattern> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}

  absl::Status Apply(const PreToken& piece, PreTokenSink sink) const override {
    std::string prefixed;
    PreToken current = piece;
    // tokenizers adds the space to every piece reaching this step, not only the first one.
    if (add_prefix_space_ && !absl::StartsWith(piece.text, " ")) {
      prefixed = absl::StrCat(" ", piece.text);
      current.text = prefixed;
    }
    std::string encoded;  // reused for every part: the sink is done with it when it returns
    auto emit = [&sink, &encoded](const PreToken& part) {
      encoded.clear();
      AppendByteLevelEncoded(part.text, &encoded);
      return sink(PreToken{encoded, part.at_input_start});
    };
    if (regex_.has_value()) {
      return SplitInto(current, *regex_, /*invert=*/false, SplitBehavior::kIsolated, emit);
    }
    return emit(current);
  }

 private:
  bool add_prefix_space_;
  std::optional<Pattern> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split,
                        Pattern replacement_pattern)
      : replacement_(std::move(replacement)),
        scheme_(scheme),
        split_(split),
        replacement_pattern_(std::move(replacement_pattern)) {}

  absl::Status Apply(const PreToken& piece, PreTokenSink sink) const override {
    std::string text = absl::StrReplaceAll(piece.text, {{" ", replacement_}});
    const bool prepend = !absl::StartsWith(text, replacement_) &&
                         (scheme_ == PrependScheme::kAlways ||
                          (scheme_ == PrependScheme::kFirst && piece.at_input_start));
    if (prepend) text.insert(0, replacement_);
    const PreToken current{text, piece.at_input_start};
    if (!split_) return sink(current);
    return SplitInto(current, replacement_pattern_, /*invert=*/false,
                     SplitBehavior::kMergedWithNext, sink);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  Pattern replacement_pattern_;
};

// One punctuation character: ASCII punctuation or Unicode P* (tokenizers' is_punctuation).
std::string PunctuationCharRegex() {
  return R"([\p{P}\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}])";
}

absl::StatusOr<std::unique_ptr<PreTokenizer>> MakePatternPreTokenizer(
    const std::string& pcre2_pattern, SplitBehavior behavior, bool invert) {
  auto pattern = Pattern::Pcre2Regex(pcre2_pattern);
  if (!pattern.ok()) return pattern.status();
  return std::unique_ptr<PreTokenizer>(
      new PatternPreTokenizer(std::move(*pattern), behavior, invert));
}

absl::StatusOr<std::unique_ptr<PreTokenizer>> ParseMetaspace(const JsonField& field) {
  auto replacement = field["replacement"].String();
  if (!replacement.ok()) return replacement.status();
  if (replacement->empty() || FindInvalidUtf8(*replacement) != absl::string_view::npos ||
      CountCodePoints(*replacement) != 1) {
    return field["replacement"].Error("must be exactly one character");
  }
  PrependScheme scheme = PrependScheme::kAlways;
  auto scheme_name = field["prepend_scheme"].OptionalString();
  if (!scheme_name.ok()) return scheme_name.status();
  if (scheme_name->has_value()) {
    if (**scheme_name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (**scheme_name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (**scheme_name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      return field["prepend_scheme"].Error(absl::StrCat("unknown prepend_scheme \"", **scheme_name,
                                                        "\" (expected always, first or never)"));
    }
  }
  // Legacy files say add_prefix_space instead; tokenizers refuses a false one that contradicts
  // the (possibly defaulted) prepend_scheme, and so do we.
  const JsonField legacy = field["add_prefix_space"];
  if (!legacy.is_null()) {
    auto add_prefix_space = legacy.Bool();
    if (!add_prefix_space.ok()) return add_prefix_space.status();
    if (!*add_prefix_space) {
      if (scheme != PrependScheme::kNever) {
        return legacy.Error("add_prefix_space does not match declared prepend_scheme");
      }
    }
  }
  auto split = field["split"].BoolOr(true);
  if (!split.ok()) return split.status();
  auto pattern = Pattern::Literal(*replacement);
  if (!pattern.ok()) return pattern.status();
  return std::unique_ptr<PreTokenizer>(
      new MetaspacePreTokenizer(*replacement, scheme, *split, std::move(*pattern)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PreTokenizer>> MakeGpt2PreTokenizer() {
  auto regex = Pattern::OnigurumaRegex(kGpt2Regex);
  if (!regex.ok()) return regex.status();
  return std::unique_ptr<PreTokenizer>(new ByteLevelPreTokenizer(false, std::move(*regex)));
}

absl::StatusOr<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const JsonField& field) {
  if (field.is_null()) return std::unique_ptr<PreTokenizer>();
  RETURN_IF_ERROR(field.ExpectObject());
  auto type = field.Type();
  if (!type.ok()) return type.status();

  if (*type == "Sequence") {
    const JsonField list = field["pretokenizers"];
    auto size = list.ArraySize();
    if (!size.ok()) return size.status();
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < *size; ++i) {
      auto step = ParsePreTokenizer(list.At(i));
      if (!step.ok()) return step.status();
      if (*step == nullptr) return list.At(i).Error("null pre_tokenizer inside a Sequence");
      steps.push_back(std::move(*step));
    }
    return std::unique_ptr<PreTokenizer>(new SequencePreTokenizer(std::move(steps)));
  }
  if (*type == "ByteLevel") {
    auto add_prefix_space = field["add_prefix_space"].BoolOr(true);
    if (!add_prefix_space.ok()) return add_prefix_space.status();
    auto use_regex = field["use_regex"].BoolOr(true);
    if (!use_regex.ok()) return use_regex.status();
    std::optional<Pattern> regex;
    if (*use_regex) {
      auto compiled = Pattern::OnigurumaRegex(kGpt2Regex);
      if (!compiled.ok()) return compiled.status();
      regex = std::move(*compiled);
    }
    return std::unique_ptr<PreTokenizer>(
        new ByteLevelPreTokenizer(*add_prefix_space, std::move(regex)));
  }
  if (*type == "Split") {
    auto pattern = ParsePattern(field["pattern"]);
    if (!pattern.ok()) return pattern.status();
    auto behavior_name = field["behavior"].String();
    if (!behavior_name.ok()) return behavior_name.status();
    auto behavior = ParseSplitBehavior(*behavior_name);
    if (!behavior.ok()) return field["behavior"].Error(behavior.status().message());
    auto invert = field["invert"].BoolOr(false);
    if (!invert.ok()) return invert.status();
    return std::unique_ptr<PreTokenizer>(
        new PatternPreTokenizer(std::move(*pattern), *behavior, *invert));
  }
  if (*type == "Metaspace") return ParseMetaspace(field);
  if (*type == "Digits") {
    auto individual = field["individual_digits"].BoolOr(false);
    if (!individual.ok()) return individual.status();
    // Rust's char::is_numeric is the N category.
    const std::string digit = absl::StrCat("[", NumberClassBody(), "]");
    return MakePatternPreTokenizer(
        digit, *individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false);
  }
  if (*type == "WhitespaceSplit") {
    return MakePatternPreTokenizer(absl::StrCat(kWhiteSpaceClassBody, "+"), SplitBehavior::kRemoved,
                                   false);
  }
  if (*type == "Whitespace") {
    // tokenizers keeps the matches of the Rust regex \w+|[^\w\s]+ and drops everything else.
    const std::string& w = RustWordClassBody();
    return MakePatternPreTokenizer(absl::StrCat("[", w, "]+|[^", w, kWhiteSpaceClassBody, "]+"),
                                   SplitBehavior::kRemoved,
                                   /*invert=*/true);
  }
  if (*type == "Punctuation") {
    SplitBehavior behavior = SplitBehavior::kIsolated;
    if (!field["behavior"].is_null()) {
      auto name = field["behavior"].String();
      if (!name.ok()) return name.status();
      auto parsed = ParseSplitBehavior(*name);
      if (!parsed.ok()) return field["behavior"].Error(parsed.status().message());
      behavior = *parsed;
    }
    return MakePatternPreTokenizer(PunctuationCharRegex(), behavior, false);
  }
  if (*type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    auto whitespace = MakePatternPreTokenizer(absl::StrCat(kWhiteSpaceClassBody, "+"),
                                              SplitBehavior::kRemoved, false);
    if (!whitespace.ok()) return whitespace.status();
    steps.push_back(std::move(*whitespace));
    auto punctuation =
        MakePatternPreTokenizer(PunctuationCharRegex(), SplitBehavior::kIsolated, false);
    if (!punctuation.ok()) return punctuation.status();
    steps.push_back(std::move(*punctuation));
    return std::unique_ptr<PreTokenizer>(new SequencePreTokenizer(std::move(steps)));
  }
  return field["type"].Error(
      absl::StrCat("unsupported pre_tokenizer \"", *type,
                   "\" (supported: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, "
                   "WhitespaceSplit, Punctuation, BertPreTokenizer)"));
}

}  // namespace ember::tokenizer_internal
