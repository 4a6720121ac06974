#include "core/engine/beam_search.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/engine/logits_processors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Logits whose log_softmax is log(p) (the probabilities sum to 1), so expectations can be written
// as products of probabilities.
std::vector<float> LogP(std::vector<double> probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

// A toy decoder: next-token logits as a function of the generated tokens.
using Model = std::function<std::vector<float>(const std::vector<int32_t>&)>;

// A decoder given as a table prefix -> logits; an unexpected prefix fails the test.
Model Table(std::map<std::vector<int32_t>, std::vector<float>> table, int64_t vocab) {
  return [table, vocab](const std::vector<int32_t>& prefix) {
    auto it = table.find(prefix);
    if (it != table.end()) return it->second;
    ADD_FAILURE() << "unexpected prefix of length " << prefix.size();
    return std::vector<float>(static_cast<size_t>(vocab), 0.0f);
  };
}

// One Step with every live beam's logits from `model`; returns the parents.
std::vector<int32_t> StepWith(BeamSearch& search, const Model& model, int64_t vocab) {
  std::vector<float> logits;
  for (int32_t b = 0; b < search.num_live(); ++b) {
    const absl::Span<const int32_t> t = search.live_tokens(b);
    const std::vector<float> row = model(std::vector<int32_t>(t.begin(), t.end()));
    logits.insert(logits.end(), row.begin(), row.end());
  }
  return search.Step(logits.data(), vocab);
}

std::vector<BeamHypothesis> RunSearch(const BeamSearchOptions& o, const Model& model, int64_t vocab,
                                      int32_t* steps = nullptr) {
  EXPECT_TRUE(ValidateBeamSearchOptions(o, vocab).ok());
  BeamSearch search(o);
  while (!search.done()) StepWith(search, model, vocab);
  if (steps != nullptr) *steps = search.steps();
  return search.Results();
}

std::vector<int32_t> Tokens(const BeamSearch& s, int32_t beam) {
  const absl::Span<const int32_t> t = s.live_tokens(beam);
  return std::vector<int32_t>(t.begin(), t.end());
}

BeamSearchOptions Options(int32_t num_beams, int32_t max_new_tokens) {
  BeamSearchOptions o;
  o.num_beams = num_beams;
  o.num_return_sequences = num_beams;
  o.max_new_tokens = max_new_tokens;
  o.eos_ids = {0};
  o.decoder_start = 1;  // in range of every test vocabulary
  return o;
}

TEST(BeamSearchTest, FirstStepExpandsTheSingleStartBeam) {
  BeamSearch s(Options(2, 10));
  ASSERT_EQ(s.num_live(), 1);
  EXPECT_THAT(Tokens(s, 0), IsEmpty());
  // p = [eos .05, .4, .3, .15, .1]: top 4 = tokens 1, 2, 3, 4; the first two become the beams.
  std::vector<float> logits = LogP({0.05, 0.4, 0.3, 0.15, 0.1});
  EXPECT_THAT(s.Step(logits.data(), 5), ElementsAre(0, 0));
  ASSERT_EQ(s.num_live(), 2);
  EXPECT_THAT(Tokens(s, 0), ElementsAre(1));
  EXPECT_THAT(Tokens(s, 1), ElementsAre(2));
  EXPECT_NEAR(s.live_sum_logprob(0), std::log(0.4), 1e-6);
  EXPECT_NEAR(s.live_sum_logprob(1), std::log(0.3), 1e-6);
  EXPECT_EQ(s.num_finished(), 0);
  EXPECT_EQ(s.steps(), 1);
  EXPECT_FALSE(s.done());
}

TEST(BeamSearchTest, EosInTheTopBFinishesEosBelowIsDropped) {
  // Two eos ids, B = 2. p = [eos0 .35, eos1 .2, .3, .15]: rank 0 eos0 -> finished [0]; rank 1
  // token 2 -> live; rank 2 eos1 (>= B) -> dropped; rank 3 token 3 -> live.
  BeamSearchOptions o = Options(2, 10);
  o.eos_ids = {0, 1};
  BeamSearch s(o);
  std::vector<float> logits = LogP({0.35, 0.2, 0.3, 0.15});
  EXPECT_THAT(s.Step(logits.data(), 4), ElementsAre(0, 0));
  EXPECT_EQ(s.num_finished(), 1);
  EXPECT_THAT(Tokens(s, 0), ElementsAre(2));
  EXPECT_THAT(Tokens(s, 1), ElementsAre(3));

  // One eos id, second step. Beams [1] (.5) and [2] (.3). Candidates: [1,eos] .25 (rank 0,
  // finished), [1,3] .15 (rank 1), [2,eos] .12 (rank 2: dropped; it ties [2,3] and wins on the
  // lower token id), [2,3] .12 (rank 3).
  BeamSearch t(Options(2, 10));
  const Model model = Table({{{}, LogP({0.1, 0.5, 0.3, 0.1})},
                             {{1}, LogP({0.5, 0.1, 0.1, 0.3})},
                             {{2}, LogP({0.4, 0.1, 0.1, 0.4})}},
                            4);
  EXPECT_THAT(StepWith(t, model, 4), ElementsAre(0, 0));
  EXPECT_THAT(StepWith(t, model, 4), ElementsAre(0, 1));
  EXPECT_EQ(t.num_finished(), 1);
  EXPECT_THAT(Tokens(t, 0), ElementsAre(1, 3));
  EXPECT_THAT(Tokens(t, 1), ElementsAre(2, 3));
}

TEST(BeamSearchTest, LengthPenaltyCountsTheEos) {
  // B = 1. Step 1: p = [eos .1, .9] -> [1]. Step 2: p = [eos .6, .4]: [1, eos] finishes with sum
  // log .54 and score log .54 / 2^lp; the live [1, 1] (log .36 / 2^lp) cannot beat it: done.
  const Model ends = Table({{{}, LogP({0.1, 0.9})}, {{1}, LogP({0.6, 0.4})}}, 2);
  for (double lp : {0.0, 1.0, 2.0, -1.0}) {
    BeamSearchOptions o = Options(1, 10);
    o.length_penalty = lp;
    const std::vector<BeamHypothesis> r = RunSearch(o, ends, 2);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_THAT(r[0].tokens, ElementsAre(1, 0));
    EXPECT_TRUE(r[0].ended_with_eos);
    EXPECT_NEAR(r[0].sum_logprob, std::log(0.54), 1e-6);
    EXPECT_DOUBLE_EQ(r[0].score, r[0].sum_logprob / std::pow(2.0, lp));
  }
  // No eos before max_new_tokens = 2: the live [1, 1] (log .81) is offered with length 2.
  const Model runs_on = Table({{{}, LogP({0.1, 0.9})}, {{1}, LogP({0.1, 0.9})}}, 2);
  BeamSearchOptions o = Options(1, 2);
  o.length_penalty = 2.0;
  const std::vector<BeamHypothesis> r = RunSearch(o, runs_on, 2);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1, 1));
  EXPECT_FALSE(r[0].ended_with_eos);
  EXPECT_NEAR(r[0].score, std::log(0.81) / 4.0, 1e-6);
}

// B = 2, lp = 1, vocab {eos, 1, 2}.
// Step 1: p = [.5, .3, .2]: [eos] finishes (log .5 = -0.693); live [1] (.3), [2] (.2).
// Step 2: [1] -> [.5, .4, .1], [2] -> [.1, .1, .8]. Candidates: [2,2] .16, [1,eos] .15
//   (finishes: log .15 / 2 = -0.949), [1,1] .12. Live [2,2], [1,1]; 2 kept, worst -0.949.
//   true: done. false: best live log .16 / 2 = -0.916 > -0.949: go on. never: log .16 / 3 too.
// Step 3: [2,2] -> [.9, .05, .05], [1,1] -> [.5, .25, .25]. [2,2,eos] .144 finishes with
//   log .144 / 3 = -0.646 and evicts [1,eos]; [1,1,eos] .06 (-0.938) loses to the worst (-0.693).
std::map<std::vector<int32_t>, std::vector<float>> StoppingTable() {
  return {{{}, LogP({0.5, 0.3, 0.2})},
          {{1}, LogP({0.5, 0.4, 0.1})},
          {{2}, LogP({0.1, 0.1, 0.8})},
          {{2, 2}, LogP({0.9, 0.05, 0.05})},
          {{1, 1}, LogP({0.5, 0.25, 0.25})}};
}

TEST(BeamSearchTest, EarlyStoppingTrueStopsOnceBHypothesesAreKept) {
  BeamSearchOptions o = Options(2, 3);
  o.early_stopping = EarlyStopping::kTrue;
  int32_t steps = 0;
  const std::vector<BeamHypothesis> r = RunSearch(o, Table(StoppingTable(), 3), 3, &steps);
  EXPECT_EQ(steps, 2);
  // The live [2,2] (log .16 / 2 = -0.916) would beat [1,eos], but a done search offers no live
  // beam (transformers' finalize skips done batch entries).
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].tokens, ElementsAre(0));
  EXPECT_NEAR(r[0].score, std::log(0.5), 1e-6);
  EXPECT_THAT(r[1].tokens, ElementsAre(1, 0));
  EXPECT_NEAR(r[1].score, std::log(0.15) / 2, 1e-6);
}

TEST(BeamSearchTest, EarlyStoppingFalseAndNeverKeepSearchingWhileALiveBeamCanWin) {
  for (EarlyStopping e : {EarlyStopping::kHeuristic, EarlyStopping::kNever}) {
    BeamSearchOptions o = Options(2, 3);
    o.early_stopping = e;
    int32_t steps = 0;
    const std::vector<BeamHypothesis> r = RunSearch(o, Table(StoppingTable(), 3), 3, &steps);
    EXPECT_EQ(steps, 3);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_THAT(r[0].tokens, ElementsAre(2, 2, 0));
    EXPECT_NEAR(r[0].score, std::log(0.144) / 3, 1e-6);
    EXPECT_THAT(r[1].tokens, ElementsAre(0));
  }
}

TEST(BeamSearchTest, EarlyStoppingNeverComparesAgainstMaxNewTokens) {
  // B = 2, lp = 1, M = 4. Step 1 as above. Step 2: [1] -> [.6, .35, .05], [2] -> [.1, .1, .8]:
  // [1,eos] .18 finishes (log .18 / 2 = -0.857), live [2,2] .16 and [1,1] .105.
  //   false: log .16 / 2 = -0.916 <= -0.857: done with [eos], [1,eos].
  //   never: log .16 / 4 = -0.458 > -0.857: step 3. [2,2] -> [.95, ...]: [2,2,eos] .152 scores
  //   log .152 / 3 = -0.628 and evicts [1,eos]; then log .02625 / 4 = -0.91 <= -0.693: done.
  const Model model = Table({{{}, LogP({0.5, 0.3, 0.2})},
                             {{1}, LogP({0.6, 0.35, 0.05})},
                             {{2}, LogP({0.1, 0.1, 0.8})},
                             {{2, 2}, LogP({0.95, 0.025, 0.025})},
                             {{1, 1}, LogP({0.5, 0.25, 0.25})}},
                            3);
  BeamSearchOptions o = Options(2, 4);
  int32_t steps = 0;
  std::vector<BeamHypothesis> r = RunSearch(o, model, 3, &steps);
  EXPECT_EQ(steps, 2);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].tokens, ElementsAre(0));
  EXPECT_THAT(r[1].tokens, ElementsAre(1, 0));
  EXPECT_NEAR(r[1].score, std::log(0.18) / 2, 1e-6);

  o.early_stopping = EarlyStopping::kNever;
  r = RunSearch(o, model, 3, &steps);
  EXPECT_EQ(steps, 3);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].tokens, ElementsAre(2, 2, 0));
  EXPECT_NEAR(r[0].score, std::log(0.152) / 3, 1e-6);
  EXPECT_THAT(r[1].tokens, ElementsAre(0));
}

TEST(BeamSearchTest, NoRepeatNgramShapesTheBeams) {
  // Every prefix: p = [eos .01, .6, .3, .09]; decoder start 3; B = 1.
  const Model model = [](const std::vector<int32_t>&) { return LogP({0.01, 0.6, 0.3, 0.09}); };
  BeamSearchOptions o = Options(1, 5);
  o.decoder_start = 3;
  // n = 1: the start token 3 is banned from the first step: 1, then 2, then only eos is left.
  o.no_repeat_ngram_size = 1;
  std::vector<BeamHypothesis> r = RunSearch(o, model, 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1, 2, 0));
  // n = 2: s = [3,1,1] bans (1,1) -> 2; s = [3,1,1,2,1] bans 1 and 2 after 1 -> 3 (.09 > eos).
  o.no_repeat_ngram_size = 2;
  r = RunSearch(o, model, 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1, 1, 2, 1, 3));
  // n = 3: s = [3,1,1,1] bans (1,1,1) -> 2; then s = [3,1,1,1,2] has no (1,2,x) -> 1.
  o.no_repeat_ngram_size = 3;
  r = RunSearch(o, model, 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1, 1, 1, 2, 1));
  // n = 3 with a model that prefers the decoder start 3: s = [3,3,3] bans (3,3,3), the trigram
  // that begins with the decoder start -> 1; then s = [3,3,3,1] has no (3,1,x) -> 3.
  const Model likes_start = [](const std::vector<int32_t>&) {
    return LogP({0.01, 0.3, 0.09, 0.6});
  };
  o.max_new_tokens = 4;
  r = RunSearch(o, likes_start, 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(3, 3, 1, 3));
  o.max_new_tokens = 5;
  o.no_repeat_ngram_size = 0;
  r = RunSearch(o, model, 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1, 1, 1, 1, 1));
}

TEST(BeamSearchTest, BannedTokensNeverAppear) {
  const Model model = [](const std::vector<int32_t>&) { return LogP({0.05, 0.1, 0.15, 0.7}); };
  BeamSearchOptions o = Options(2, 3);
  o.banned_tokens = {3};
  for (const BeamHypothesis& h : RunSearch(o, model, 4)) {
    EXPECT_THAT(h.tokens, ::testing::Not(::testing::Contains(3)));
  }
}

TEST(BeamSearchTest, ForcedEosAtTheLastStepAddsZero) {
  // B = 2, M = 2. Step 1: p = [eos .1, .6, .3] -> [1], [2]. Step 2 is the last: every token but
  // eos is -inf and eos scores 0, so both beams finish with their step-1 sums, exactly.
  BeamSearchOptions o = Options(2, 2);
  o.forced_eos = 0;
  BeamSearch s(o);
  std::vector<float> logits = LogP({0.1, 0.6, 0.3});
  ASSERT_THAT(s.Step(logits.data(), 3), ElementsAre(0, 0));
  const float sum0 = s.live_sum_logprob(0);
  const float sum1 = s.live_sum_logprob(1);
  // The model would much rather go on: p(eos) = .01 on both beams.
  logits = LogP({0.01, 0.9, 0.09, 0.01, 0.9, 0.09});
  EXPECT_THAT(s.Step(logits.data(), 3), IsEmpty());
  EXPECT_TRUE(s.done());
  const std::vector<BeamHypothesis> r = s.Results();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1, 0));
  EXPECT_EQ(r[0].sum_logprob, static_cast<double>(sum0));
  EXPECT_DOUBLE_EQ(r[0].score, static_cast<double>(sum0) / 2);
  EXPECT_TRUE(r[0].ended_with_eos);
  EXPECT_THAT(r[1].tokens, ElementsAre(2, 0));
  EXPECT_EQ(r[1].sum_logprob, static_cast<double>(sum1));

  // M = 1: the only step is the last one: [eos] with sum 0.
  BeamSearchOptions one = Options(1, 1);
  one.forced_eos = 0;
  BeamSearch t(one);
  logits = LogP({0.1, 0.6, 0.3});
  t.Step(logits.data(), 3);
  ASSERT_EQ(t.Results().size(), 1u);
  EXPECT_THAT(t.Results()[0].tokens, ElementsAre(0));
  EXPECT_EQ(t.Results()[0].score, 0.0);
}

TEST(BeamSearchTest, NBestIsOrderedAndCutToNumReturnSequences) {
  // B = 3, M = 1, p = [eos .05, .4, .3, .2, .05]: live [1], [2], [3], all offered at the end.
  const Model model = Table({{{}, LogP({0.05, 0.4, 0.3, 0.2, 0.05})}}, 5);
  BeamSearchOptions o = Options(3, 1);
  std::vector<BeamHypothesis> r = RunSearch(o, model, 5);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_THAT(r[0].tokens, ElementsAre(1));
  EXPECT_THAT(r[1].tokens, ElementsAre(2));
  EXPECT_THAT(r[2].tokens, ElementsAre(3));
  EXPECT_NEAR(r[2].score, std::log(0.2), 1e-6);
  EXPECT_GT(r[0].score, r[1].score);
  EXPECT_GT(r[1].score, r[2].score);
  o.num_return_sequences = 2;
  r = RunSearch(o, model, 5);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[1].tokens, ElementsAre(2));
  // The early-stopping table: n-best [2,2,eos] (-0.646), [eos] (-0.693); R = 1 keeps the first.
  o = Options(2, 3);
  o.num_return_sequences = 1;
  r = RunSearch(o, Table(StoppingTable(), 3), 3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].tokens, ElementsAre(2, 2, 0));
}

TEST(BeamSearchTest, EqualScoresBreakTiesByBeamThenToken) {
  // Step 1: p = [eos .1, .45, .45]: tokens 1 and 2 tie; token 1 is beam 0.
  BeamSearch s(Options(2, 10));
  std::vector<float> logits = LogP({0.1, 0.45, 0.45});
  ASSERT_THAT(s.Step(logits.data(), 3), ElementsAre(0, 0));
  EXPECT_THAT(Tokens(s, 0), ElementsAre(1));
  // Step 2: [1] -> [.02, .08, .9], [2] -> [.02, .9, .08]: [1,2] and [2,1] tie at .405; the lower
  // beam index wins over the lower token id.
  logits = LogP({0.02, 0.08, 0.9, 0.02, 0.9, 0.08});
  EXPECT_THAT(s.Step(logits.data(), 3), ElementsAre(0, 1));
  EXPECT_THAT(Tokens(s, 0), ElementsAre(1, 2));
  EXPECT_THAT(Tokens(s, 1), ElementsAre(2, 1));
}

// Deterministic pseudo-random logits in [-4, 4) from a seed and the prefix.
std::vector<float> HashLogits(uint64_t seed, const std::vector<int32_t>& prefix, int64_t vocab) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int32_t t : prefix) x = (x ^ static_cast<uint64_t>(t + 1)) * 0xBF58476D1CE4E5B9ull;
  std::vector<float> row;
  for (int64_t i = 0; i < vocab; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    row.push_back(static_cast<float>(static_cast<double>(x >> 40) / (1 << 24) * 8.0 - 4.0));
  }
  return row;
}

TEST(BeamSearchTest, OneBeamIsGreedy) {
  constexpr int64_t kVocab = 16;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const Model model = [seed](const std::vector<int32_t>& p) {
      return HashLogits(seed, p, kVocab);
    };
    BeamSearchOptions o = Options(1, 12);
    std::vector<int32_t> greedy;
    while (greedy.size() < 12) {
      const std::vector<float> row = model(greedy);
      greedy.push_back(
          static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin()));
      if (greedy.back() == 0) break;
    }
    const std::vector<BeamHypothesis> r = RunSearch(o, model, kVocab);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].tokens, greedy) << "seed " << seed;
    EXPECT_EQ(r[0].ended_with_eos, greedy.back() == 0);
  }
}

TEST(BeamSearchTest, SelectionMatchesAFullSort) {
  // No eos: each step keeps exactly the B best of all B * V candidates. Logits on a coarse grid
  // make many exact ties, so the (score, beam, token) order is exercised too.
  constexpr int64_t kVocab = 1000;
  constexpr int32_t kBeams = 4;
  BeamSearchOptions o = Options(kBeams, 10);
  o.eos_ids.clear();
  BeamSearch s(o);
  for (int step = 0; step < 4; ++step) {
    std::vector<float> logits;
    for (int32_t b = 0; b < s.num_live(); ++b) {
      std::vector<float> row = HashLogits(static_cast<uint64_t>(step * 10 + b), {}, kVocab);
      for (float& v : row) v = std::round(v * 2.0f) / 2.0f;
      logits.insert(logits.end(), row.begin(), row.end());
    }
    // The expectation: every candidate score, fully sorted.
    std::vector<float> scores = logits;
    std::vector<int64_t> order;
    for (int32_t b = 0; b < s.num_live(); ++b) {
      float* row = scores.data() + b * kVocab;
      LogSoftmax(row, kVocab);
      for (int64_t v = 0; v < kVocab; ++v) row[v] = s.live_sum_logprob(b) + row[v];
    }
    for (int64_t i = 0; i < static_cast<int64_t>(scores.size()); ++i) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
    const std::vector<int32_t> parents = s.Step(logits.data(), kVocab);
    ASSERT_EQ(parents.size(), static_cast<size_t>(kBeams));
    for (int32_t i = 0; i < kBeams; ++i) {
      EXPECT_EQ(parents[i], order[i] / kVocab) << "step " << step << " beam " << i;
      EXPECT_EQ(Tokens(s, i).back(), order[i] % kVocab) << "step " << step << " beam " << i;
      EXPECT_EQ(s.live_sum_logprob(i), scores[order[i]]);
    }
  }
}

TEST(BeamSearchTest, StepAfterDoneOrWithoutVocabularyDoesNothing) {
  BeamSearch s(Options(1, 1));
  std::vector<float> logits = LogP({0.5, 0.5});
  EXPECT_THAT(s.Step(logits.data(), 2), IsEmpty());
  ASSERT_TRUE(s.done());
  EXPECT_THAT(s.Step(logits.data(), 2), IsEmpty());
  EXPECT_EQ(s.steps(), 1);
  BeamSearch t(Options(1, 5));
  EXPECT_THAT(t.Step(logits.data(), 0), IsEmpty());
  EXPECT_TRUE(t.done());
  EXPECT_THAT(t.Results(), IsEmpty());
}

TEST(BeamSearchTest, ValidateNamesTheField) {
  EXPECT_TRUE(ValidateBeamSearchOptions(Options(4, 8), 5).ok());
  struct Case {
    std::function<void(BeamSearchOptions&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](BeamSearchOptions& o) { o.num_beams = 0; }, "num_beams"},
      {[](BeamSearchOptions& o) { o.num_beams = kMaxNumBeams + 1; }, "num_beams"},
      {[](BeamSearchOptions& o) { o.length_penalty = std::nan(""); }, "length_penalty"},
      {[](BeamSearchOptions& o) { o.early_stopping = static_cast<EarlyStopping>(7); },
       "early_stopping"},
      {[](BeamSearchOptions& o) { o.no_repeat_ngram_size = -1; }, "no_repeat_ngram_size"},
      {[](BeamSearchOptions& o) { o.max_new_tokens = 0; }, "max_new_tokens"},
      {[](BeamSearchOptions& o) { o.num_return_sequences = 0; }, "num_return_sequences"},
      {[](BeamSearchOptions& o) { o.num_return_sequences = 5; }, "num_return_sequences"},
      {[](BeamSearchOptions& o) {
         o.eos_ids = {0, -1};
       },
       "eos_ids"},
      {[](BeamSearchOptions& o) { o.eos_ids = {5}; }, "eos_ids"},
      {[](BeamSearchOptions& o) { o.banned_tokens = {9}; }, "banned_tokens"},
      {[](BeamSearchOptions& o) { o.forced_eos = -2; }, "forced_eos"},
      {[](BeamSearchOptions& o) { o.decoder_start = 5; }, "decoder_start"},
  };
  for (const Case& c : cases) {
    BeamSearchOptions o = Options(4, 8);
    c.mutate(o);
    const absl::Status s = ValidateBeamSearchOptions(o, 5);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(s.message(), HasSubstr(c.field));
  }
  // Without a vocabulary size only negative ids are rejected.
  BeamSearchOptions o = Options(4, 8);
  o.decoder_start = 123456;
  EXPECT_TRUE(ValidateBeamSearchOptions(o).ok());
  o.decoder_start = -1;
  EXPECT_THAT(ValidateBeamSearchOptions(o).message(), HasSubstr("decoder_start"));
}

}  // namespace
}  // namespace ember
