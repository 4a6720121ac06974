#include "core/engine/logits_processors.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Which entries of a row are -inf.
std::vector<int32_t> Banned(const std::vector<float>& row) {
  std::vector<int32_t> out;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == -kInf) out.push_back(static_cast<int32_t>(i));
  }
  return out;
}

std::vector<int32_t> NgramBans(const std::vector<int32_t>& sequence, int n, int64_t vocab = 8) {
  std::vector<float> row(static_cast<size_t>(vocab), 0.0f);
  BanNoRepeatNgrams(sequence, n, row.data(), vocab);
  return Banned(row);
}

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NoRepeatNgramTest, UnigramsBanEveryTokenOfTheSequenceIncludingTheDecoderStart) {
  // s = [7 (decoder start), 1, 2]: every token seen, the start too.
  EXPECT_THAT(NgramBans({7, 1, 2}, 1), ElementsAre(1, 2, 7));
  // Even before anything is generated: m + 1 = 2 >= 1.
  EXPECT_THAT(NgramBans({7}, 1), ElementsAre(7));
}

TEST(NoRepeatNgramTest, BigramsBanWhatFollowedTheLastToken) {
  // s = [7, 1, 2, 1]: last token 1; bigrams (7,1) (1,2) (2,1): only (1,2) starts with 1 -> ban 2.
  EXPECT_THAT(NgramBans({7, 1, 2, 1}, 2), ElementsAre(2));
  // s = [7, 1, 3, 1, 4, 1]: (1,3) and (1,4) -> ban 3 and 4.
  EXPECT_THAT(NgramBans({7, 1, 3, 1, 4, 1}, 2), ElementsAre(3, 4));
  // s = [7]: m + 1 = 2 >= 2 but there is no complete bigram yet.
  EXPECT_THAT(NgramBans({7}, 2), IsEmpty());
  // s = [7, 7]: the bigram (7,7) starts at the decoder start and the last token is 7 -> ban 7.
  EXPECT_THAT(NgramBans({7, 7}, 2), ElementsAre(7));
  // s = [7, 1]: (7,1) starts with 7, but the last token is 1 -> nothing.
  EXPECT_THAT(NgramBans({7, 1}, 2), IsEmpty());
}

TEST(NoRepeatNgramTest, TrigramsMatchOnTheLastTwoTokensIncludingTheDecoderStart) {
  // s = [7, 1, 2, 7, 1]: last two (7,1); trigrams j=0 (7,1,2), j=1 (1,2,7), j=2 (2,7,1): ban 2.
  EXPECT_THAT(NgramBans({7, 1, 2, 7, 1}, 3), ElementsAre(2));
  // s = [7, 1, 7, 1]: last two (7,1); j=0 (7,1,7) matches (it starts at the decoder start) -> ban
  // 7; j=1 (1,7,1) does not.
  EXPECT_THAT(NgramBans({7, 1, 7, 1}, 3), ElementsAre(7));
  // s = [7]: m + 1 = 2 < 3, transformers' early return. s = [7, 1]: no complete trigram.
  EXPECT_THAT(NgramBans({7}, 3), IsEmpty());
  EXPECT_THAT(NgramBans({7, 1}, 3), IsEmpty());
  // s = [7, 1, 2, 3]: last two (2,3) never seen before.
  EXPECT_THAT(NgramBans({7, 1, 2, 3}, 3), IsEmpty());
}

TEST(NoRepeatNgramTest, OffWhenNIsNotPositiveAndOutOfRangeIdsAreIgnored) {
  EXPECT_THAT(NgramBans({7, 1, 1}, 0), IsEmpty());
  EXPECT_THAT(NgramBans({7, 1, 1}, -2), IsEmpty());
  EXPECT_THAT(NgramBans({}, 1), IsEmpty());
  // Ids 9 and -1 are outside a vocabulary of 8: they match as n-gram tokens but cannot be banned.
  EXPECT_THAT(NgramBans({9, -1, 9}, 1), IsEmpty());
  EXPECT_THAT(NgramBans({-1, 9, -1}, 2), IsEmpty());
  EXPECT_THAT(NgramBans({-1, 3, -1}, 2), ElementsAre(3));
}

TEST(BanTokensTest, BansInRangeIdsOnly) {
  std::vector<float> row = {1, 2, 3, 4};
  BanTokens({1, 3, -1, 4, 100}, row.data(), 4);
  EXPECT_THAT(row, ElementsAre(1.0f, -kInf, 3.0f, -kInf));
  BanTokens({}, row.data(), 4);
  EXPECT_THAT(row, ElementsAre(1.0f, -kInf, 3.0f, -kInf));
}

TEST(ForceTokenTest, EveryEntryMinusInfExceptTheTokenWhichIsZero) {
  std::vector<float> row = {-0.5f, -2.0f, -kInf, -1.0f};
  ForceToken(2, row.data(), 4);  // even a banned (-inf) token becomes 0, as in transformers
  EXPECT_THAT(row, ElementsAre(-kInf, -kInf, 0.0f, -kInf));
  std::vector<float> untouched = {-0.5f, -2.0f};
  ForceToken(2, untouched.data(), 2);
  ForceToken(-1, untouched.data(), 2);
  EXPECT_THAT(untouched, ElementsAre(-0.5f, -2.0f));
}

TEST(LogSoftmaxTest, MatchesTheDoublePrecisionFormula) {
  std::vector<float> row = {1.0f, 2.0f, 3.0f, -1.0f};
  const double z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(-1.0));
  LogSoftmax(row.data(), 4);
  EXPECT_NEAR(row[0], 1.0 - z, 1e-6);
  EXPECT_NEAR(row[1], 2.0 - z, 1e-6);
  EXPECT_NEAR(row[2], 3.0 - z, 1e-6);
  EXPECT_NEAR(row[3], -1.0 - z, 1e-6);
  double total = 0;
  for (float v : row) total += std::exp(static_cast<double>(v));
  EXPECT_NEAR(total, 1.0, 1e-6);
}

TEST(LogSoftmaxTest, StableForLargeInputsAndKeepsMinusInf) {
  // exp(1000) overflows: the max is subtracted first. log(1 + e^-1) = 0.3132617.
  std::vector<float> row = {1000.0f, 999.0f, -kInf};
  LogSoftmax(row.data(), 3);
  EXPECT_NEAR(row[0], -0.3132617, 1e-5);
  EXPECT_NEAR(row[1], -1.3132617, 1e-5);
  EXPECT_EQ(row[2], -kInf);
  std::vector<float> tiny = {-1e30f, 0.0f};
  LogSoftmax(tiny.data(), 2);
  EXPECT_EQ(tiny[1], 0.0f);
  EXPECT_EQ(tiny[0], -1e30f);
}

TEST(LogSoftmaxTest, DegenerateRowsGetDefinedValues) {
  // Nothing finite: stays all -inf (PyTorch would give NaN).
  std::vector<float> none = {-kInf, -kInf};
  LogSoftmax(none.data(), 2);
  EXPECT_THAT(none, ElementsAre(-kInf, -kInf));
  // NaN counts as -inf.
  std::vector<float> nan = {std::nanf(""), 0.0f};
  LogSoftmax(nan.data(), 2);
  EXPECT_THAT(nan, ElementsAre(-kInf, 0.0f));
  // Two +inf entries share the mass: log(1/2) each.
  std::vector<float> inf = {kInf, 1.0f, kInf};
  LogSoftmax(inf.data(), 3);
  EXPECT_FLOAT_EQ(inf[0], -std::log(2.0f));
  EXPECT_EQ(inf[1], -kInf);
  EXPECT_FLOAT_EQ(inf[2], -std::log(2.0f));
  // A single entry is certain; an empty row is a no-op.
  std::vector<float> one = {42.0f};
  LogSoftmax(one.data(), 1);
  EXPECT_EQ(one[0], 0.0f);
  LogSoftmax(nullptr, 0);
}

}  // namespace
}  // namespace ember
