// The Oniguruma -> PCRE2 translation and match iteration. Expected behaviour was checked against
// Hugging Face tokenizers 0.23.2 (npm) through Split(..., "Removed") pre-tokenizers.
#include "core/tokenizer/regex.h"

#include <string>
#include <utility>
#include <vector>

#include "core/tokenizer/pattern.h"
#include "gtest/gtest.h"

namespace ember::tokenizer_internal {
namespace {

std::vector<std::string> Matches(absl::string_view pattern, absl::string_view text) {
  auto regex = Regex::FromOniguruma(pattern);
  EXPECT_TRUE(regex.ok()) << regex.status();
  if (!regex.ok()) return {};
  std::vector<MatchSpan> spans;
  EXPECT_TRUE((*regex)->FindAll(text, &spans).ok());
  std::vector<std::string> out;
  for (const MatchSpan& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

using Strings = std::vector<std::string>;

TEST(RegexTest, WhiteSpaceIsTheUnicodeProperty) {
  // Oniguruma's \s is White_Space: NEL, NBSP, U+3000 and U+2028 are in, U+180E, U+200B, U+FEFF and
  // the information separators U+001C..U+001F are out (PCRE2's own \s would take U+180E).
  EXPECT_EQ(Matches("\\s", "a\u0085b\u00A0c\u3000d\u2028e"),
            (Strings{"\u0085", "\u00A0", "\u3000", "\u2028"}));
  EXPECT_EQ(Matches("\\s", "a\u180Eb\u200Bc\uFEFFd\x1c\x1d\x1e\x1f"), Strings{});
  EXPECT_EQ(Matches("[^\\s]+", "x\u180Ey z"), (Strings{"x\u180Ey", "z"}));
  EXPECT_EQ(Matches("\\S+", "x\u180Ey z"), (Strings{"x\u180Ey", "z"}));
}

TEST(RegexTest, LettersAndNumbersIncludeUnicode16Additions) {
  // U+1C89 (Cyrillic, Unicode 16) and U+31350 (CJK Extension H, Unicode 15) are letters in
  // tokenizers; U+1E4F0 (Nag Mundari digit zero, Unicode 15) is a number.
  EXPECT_EQ(Matches("\\p{L}+", "a\u1C89b \U00031350"), (Strings{"a\u1C89b", "\U00031350"}));
  EXPECT_EQ(Matches("[^\\p{L}]+", "a\u1C89b"), Strings{});
  EXPECT_EQ(Matches("\\p{N}+", "1\U0001E4F02"), (Strings{"1\U0001E4F02"}));
  EXPECT_EQ(Matches("\\d+", "1\U0001E4F02"), (Strings{"1\U0001E4F02"}));
  EXPECT_EQ(Matches("\\P{L}+", "ab12\u1C89"), (Strings{"12"}));
}

TEST(RegexTest, RubySyntaxDifferences) {
  // ^ and $ match at line breaks; (?m) is dot-all; \h is a hex digit; \uHHHH is a code point.
  EXPECT_EQ(Matches("^a", "a\na\nba"), (Strings{"a", "a"}));
  EXPECT_EQ(Matches("a$", "a\nba\r\na"), (Strings{"a", "a"}));
  EXPECT_EQ(Matches("(?m)a.b", "a\nb"), (Strings{"a\nb"}));
  EXPECT_EQ(Matches("a.b", "a\nb"), Strings{});
  EXPECT_EQ(Matches("\\h+", "09af xyz"), (Strings{"09af"}));
  EXPECT_EQ(Matches("\\u00e9", "caf\u00e9"), (Strings{"\u00e9"}));
  EXPECT_EQ(Matches("(?i:'s|'ll)", "'S 'LL '\u017F 'x"), (Strings{"'S", "'LL", "'\u017F"}));
}

TEST(RegexTest, EmptyMatchesFollowOnigurumaIteration) {
  // An empty match right after the previous match is skipped.
  EXPECT_EQ(Matches("x*", "xxaxxb"), (Strings{"xx", "xx", ""}));
  EXPECT_EQ(Matches("", "ab"), (Strings{"", "", ""}));
}

TEST(RegexTest, Llama3PatternSplitsLikeTokenizers) {
  constexpr char kLlama3[] =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  EXPECT_EQ(Matches(kLlama3, "I'LL pay 1234567 now!!\n\n  ok"),
            (Strings{"I", "'LL", " pay", " ", "123", "456", "7", " now", "!!\n\n", " ", " ok"}));
}

TEST(RegexTest, UnsupportedConstructsAreErrors) {
  EXPECT_FALSE(Regex::FromOniguruma("[a[b]]").ok());
  EXPECT_FALSE(Regex::FromOniguruma("[a-z&&[^x]]").ok());
  EXPECT_FALSE(Regex::FromOniguruma("(unclosed").ok());
  EXPECT_FALSE(Regex::FromOniguruma("trailing\\").ok());
  EXPECT_TRUE(Regex::FromOniguruma("[[:alpha:]]+").ok());
}

TEST(PatternTest, SplitBehaviours) {
  auto dash = Pattern::Literal("-");
  ASSERT_TRUE(dash.ok());
  std::vector<PatternSpan> spans;
  ASSERT_TRUE(dash->FindMatches("the-final--countdown", false, &spans).ok());
  auto pieces = [&](SplitBehavior behavior) {
    std::vector<MatchSpan> parts;
    ApplySplitBehavior(spans, behavior, &parts);
    Strings out;
    for (const MatchSpan& p : parts) {
      out.push_back(std::string("the-final--countdown").substr(p.begin, p.end - p.begin));
    }
    return out;
  };
  // The examples from tokenizers' NormalizedString::split documentation (minus empty pieces).
  EXPECT_EQ(pieces(SplitBehavior::kRemoved), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kIsolated),
            (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kMergedWithPrevious),
            (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kMergedWithNext), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kContiguous), (Strings{"the", "-", "final", "--", "countdown"}));
}

}  // namespace
}  // namespace ember::tokenizer_internal
