#include "core/engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "core/engine/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

std::vector<float> Logits() { return {1.0f, 3.0f, 2.0f, -1.0f, 2.5f}; }

SampledToken SampleOnce(const SamplingParams& p, std::vector<float> logits, uint64_t seed = 1,
                        std::vector<int32_t> prompt = {}) {
  Sampler s(p, seed, prompt);
  return s.Sample(logits.data(), static_cast<int64_t>(logits.size()));
}

TEST(SamplerTest, GreedyPicksArgmaxLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0;
  EXPECT_EQ(SampleOnce(p, Logits()).token, 1);
  EXPECT_EQ(SampleOnce(p, {2.0f, 5.0f, 5.0f}).token, 1);
}

TEST(SamplerTest, TopKOneIsGreedy) {
  SamplingParams p;
  p.top_k = 1;
  for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(SampleOnce(p, Logits(), seed).token, 1);
}

TEST(SamplerTest, TopPKeepsTheSmallestNucleus) {
  SamplingParams p;
  p.top_p = 0.5f;  // p(1) = e^3 / sum ~ 0.49: token 4 (2.5) is needed to reach 0.5
  std::map<int32_t, int> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) ++seen[SampleOnce(p, Logits(), seed).token];
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(::testing::Key(1), ::testing::Key(4)));
}

TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.min_p = 0.5f;  // keeps tokens with p >= 0.5 p(max): logits >= 3 - ln 2 = 2.31 -> {1, 4}
  std::map<int32_t, int> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) ++seen[SampleOnce(p, Logits(), seed).token];
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(::testing::Key(1), ::testing::Key(4)));
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedsDiffer) {
  SamplingParams p;
  std::vector<int32_t> a, b, c;
  Sampler s1(p, 7, {}), s2(p, 7, {}), s3(p, 8, {});
  for (int i = 0; i < 50; ++i) {
    auto l1 = Logits(), l2 = Logits(), l3 = Logits();
    a.push_back(s1.Sample(l1.data(), 5).token);
    b.push_back(s2.Sample(l2.data(), 5).token);
    c.push_back(s3.Sample(l3.data(), 5).token);
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(SamplerTest, SamplingFrequenciesFollowTheSoftmax) {
  SamplingParams p;
  p.temperature = 2.0f;
  Sampler s(p, 3, {});
  std::vector<int> counts(5, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto l = Logits();
    ++counts[static_cast<size_t>(s.Sample(l.data(), 5).token)];
  }
  double z = 0;
  for (float v : Logits()) z += std::exp(v / 2.0);
  for (int t = 0; t < 5; ++t) {
    const double expected = std::exp(Logits()[static_cast<size_t>(t)] / 2.0) / z;
    EXPECT_NEAR(counts[static_cast<size_t>(t)] / static_cast<double>(n), expected, 0.015) << t;
  }
}

TEST(SamplerTest, RepetitionPenaltyFollowsHuggingFace) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  // Token 1 (3.0) is in the prompt: 3.0 / 2 = 1.5 < 2.5 (token 4) -> 4 wins.
  EXPECT_EQ(SampleOnce(p, Logits(), 1, {1}).token, 4);
}

TEST(SamplerTest, PresenceAndFrequencyPenaltiesApplyToGeneratedTokens) {
  SamplingParams p;
  p.temperature = 0;
  p.frequency_penalty = 1.0f;
  Sampler s(p, 1, {});
  auto l = Logits();
  EXPECT_EQ(s.Sample(l.data(), 5).token, 1);  // 3.0
  l = Logits();
  EXPECT_EQ(s.Sample(l.data(), 5).token, 4);  // 3.0 - 1 = 2.0 < 2.5
}

TEST(SamplerTest, LogprobsAreLogSoftmaxAndTopListIsSorted) {
  SamplingParams p;
  p.temperature = 0;
  p.logprobs = true;
  p.top_logprobs = 3;
  auto r = SampleOnce(p, Logits());
  double z = 0;
  for (float v : Logits()) z += std::exp(v);
  EXPECT_NEAR(r.logprob, 3.0 - std::log(z), 1e-5);
  ASSERT_EQ(r.top.size(), 3u);
  EXPECT_EQ(r.top[0].token, 1);
  EXPECT_EQ(r.top[1].token, 4);
  EXPECT_EQ(r.top[2].token, 2);
}

TEST(SamplerTest, NanAndInfinityNeverGiveAnOutOfRangeToken) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  SamplingParams p;
  p.top_p = 0.3f;
  p.logprobs = true;
  EXPECT_EQ(SampleOnce(p, {nan, nan, nan}).token, 0);
  EXPECT_EQ(SampleOnce(p, {-inf, -inf}).token, 0);
  EXPECT_EQ(SampleOnce(p, {nan, 1.0f, inf, 2.0f}).token, 2);
  EXPECT_EQ(SampleOnce(p, {nan, -1.0f, nan}).token, 1);
}

// +inf logits share all the probability: found by fuzz/sampler_fuzz, which saw NaN (inf - inf).
TEST(SamplerTest, InfiniteLogitsGetFiniteLogprobs) {
  const float inf = std::numeric_limits<float>::infinity();
  SamplingParams p;
  p.top_logprobs = 3;
  const SampledToken one = SampleOnce(p, {1.0f, inf, 2.0f});
  EXPECT_EQ(one.token, 1);
  EXPECT_EQ(one.logprob, 0.0f);
  const SampledToken two = SampleOnce(p, {inf, 0.0f, inf});
  EXPECT_EQ(two.token, 0);
  EXPECT_FLOAT_EQ(two.logprob, -std::log(2.0f));
  ASSERT_EQ(two.top.size(), 3u);
  EXPECT_FLOAT_EQ(two.top[1].logprob, -std::log(2.0f));
  EXPECT_EQ(two.top[2].logprob, -inf);
}

// The sampler's token choice restated plainly (sort by logit with an id tie-break, tempered
// probabilities in that order, top-k, top-p, min-p, one uniform draw): Sample ranks tokens with
// integer keys and a radix sort, and must choose exactly what this does, for rows full of ties,
// signed zeros and -inf.
int32_t ReferenceChoice(std::vector<float> logits, const SamplingParams& p, Random& random) {
  const int64_t n = static_cast<int64_t>(logits.size());
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < n; ++i) {
    if (logits[i] > -std::numeric_limits<float>::infinity()) ids.push_back(i);
  }
  auto better = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::sort(ids.begin(), ids.end(), better);
  size_t keep = ids.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) keep = static_cast<size_t>(p.top_k);
  const float max = logits[ids[0]];
  std::vector<double> probs(keep);
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp((static_cast<double>(logits[ids[i]]) - max) / p.temperature);
    total += probs[i];
  }
  if (p.top_p < 1.0f) {
    double mass = 0.0;
    size_t m = 0;
    while (m < keep) {
      mass += probs[m++];
      if (mass >= p.top_p * total) break;
    }
    keep = m;
  }
  if (p.min_p > 0.0f) {
    size_t m = 1;
    while (m < keep && probs[m] >= p.min_p * probs[0]) ++m;
    keep = m;
  }
  total = 0.0;
  for (size_t i = 0; i < keep; ++i) total += probs[i];
  const double target = random.Uniform() * total;
  double cumulative = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    cumulative += probs[i];
    if (target < cumulative) return ids[i];
  }
  return ids[keep - 1];
}

TEST(SamplerTest, RankingMatchesAPlainSortWithTiesSignedZerosAndMinusInfinity) {
  std::mt19937 rng(99);
  int draws = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t vocab = 1 + static_cast<int64_t>(rng() % 700);
    std::vector<float> logits(static_cast<size_t>(vocab));
    for (float& v : logits) {
      switch (rng() % 8) {
        case 0:
          v = 0.0f;
          break;
        case 1:
          v = -0.0f;
          break;
        case 2:
          v = -std::numeric_limits<float>::infinity();
          break;
        case 3:
          v = 1.5f;
          break;
        case 4:
          v = -1e30f;
          break;
        default:
          v = static_cast<float>(static_cast<int>(rng() % 2000) - 1000) / 97.0f;
      }
    }
    if (std::all_of(logits.begin(), logits.end(), [](float v) { return std::isinf(v); })) {
      logits[0] =
          1.0f;  // the reference needs a finite token; Sample's all -inf case is tested above
    }
    SamplingParams p;
    p.temperature = 0.3f + static_cast<float>(rng() % 20) / 10.0f;
    p.top_k = rng() % 3 == 0 ? static_cast<int32_t>(1 + rng() % 50) : 0;
    p.top_p = rng() % 2 == 0 ? 0.5f + static_cast<float>(rng() % 50) / 100.0f : 1.0f;
    p.min_p = rng() % 3 == 0 ? static_cast<float>(rng() % 30) / 100.0f : 0.0f;
    const uint64_t seed = rng();
    Sampler sampler(p, seed, {});
    Random reference_random(seed);
    for (int draw = 0; draw < 5; ++draw) {
      std::vector<float> row = logits;
      const int32_t got = sampler.Sample(row.data(), vocab).token;
      const int32_t want = ReferenceChoice(logits, p, reference_random);
      ++draws;
      ASSERT_EQ(got, want) << "trial " << trial << " draw " << draw << " vocab " << vocab;
    }
  }
  EXPECT_EQ(draws, 1500);
}

}  // namespace
}  // namespace ember
