// Prompt log-probabilities (GenerationRequest::prompt_logprobs) on a tiny generated Llama: the
// score of a text equals what generating it reported token by token (two independent paths: every
// prefill row through the LM head vs. one decode step per token), whether the prompt is prefilled
// whole or in chunks beside other requests; a scoring-only request generates nothing; the scores
// arrive once, in the first event. PromptScorer and ScoreToken are checked on their own too.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/engine/engine.h"
#include "core/engine/prompt_scorer.h"
#include "gtest/gtest.h"
#include "tests/test_util/event_collector.h"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

using testing::Collector;

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(ScoreTokenTest, IsTheLogSoftmaxWithTheTopTokensByLogitThenId) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f};
  std::vector<int32_t> scratch;
  const SampledToken s = ScoreToken(logits, 2, 3, scratch);
  double z = 0;
  for (float v : logits) z += std::exp(static_cast<double>(v));
  EXPECT_EQ(s.token, 2);
  EXPECT_NEAR(s.logprob, 2.0 - std::log(z), 1e-6);
  ASSERT_EQ(s.top.size(), 3u);
  EXPECT_EQ(s.top[0].token, 1);  // ties by lower id
  EXPECT_EQ(s.top[1].token, 3);
  EXPECT_EQ(s.top[2].token, 2);
  EXPECT_NEAR(s.top[2].logprob, s.logprob, 1e-7);
}

TEST(ScoreTokenTest, NanCountsAsMinusInfinityAndInfinitiesShareTheMass) {
  std::vector<int32_t> scratch;
  const std::vector<float> with_nan = {std::nanf(""), 0.0f};
  EXPECT_NEAR(ScoreToken(with_nan, 1, 0, scratch).logprob, 0.0f, 1e-7);
  EXPECT_EQ(ScoreToken(with_nan, 0, 0, scratch).logprob, -kInf);
  const std::vector<float> two_inf = {kInf, 5.0f, kInf};
  EXPECT_NEAR(ScoreToken(two_inf, 0, 0, scratch).logprob, -std::log(2.0f), 1e-6);
  EXPECT_EQ(ScoreToken(two_inf, 1, 0, scratch).logprob, -kInf);
  const std::vector<float> nothing = {-kInf, std::nanf("")};
  const SampledToken none = ScoreToken(nothing, 0, 2, scratch);
  EXPECT_EQ(none.logprob, -kInf);
  ASSERT_EQ(none.top.size(), 2u);
  EXPECT_EQ(none.top[0].logprob, -kInf);
}

TEST(PromptScorerTest, ScoresEachTokenAfterTheFirstOnceInOrder) {
  const std::vector<int32_t> prompt = {0, 1, 2};
  PromptScorer scorer(prompt, 0);
  const std::vector<float> row = {0.0f, 1.0f, 2.0f};
  EXPECT_FALSE(scorer.done());
  scorer.Consume(1, row);  // ahead of position 0: ignored
  scorer.Consume(0, row);  // scores prompt[1]
  scorer.Consume(0, row);  // a recomputed row (preemption): ignored
  scorer.Consume(1, row);  // scores prompt[2]
  EXPECT_TRUE(scorer.done());
  scorer.Consume(2, row);  // predicts the first generated token: not a prompt score
  const std::vector<SampledToken> scored = scorer.Take();
  ASSERT_EQ(scored.size(), 2u);
  EXPECT_EQ(scored[0].token, 1);
  EXPECT_EQ(scored[1].token, 2);
}

class PromptLogprobsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    tools::MakeModelOptions options;
    options.out_dir = dir_->File("tiny-llama");
    options.spec = *tools::PresetSpec("tiny-llama");
    options.seed = 3;
    ASSERT_TRUE(tools::MakeModel(options).ok());
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::unique_ptr<Engine> MakeEngine(EngineOptions options = {}) {
    options.model_dir = dir_->File("tiny-llama");
    options.compute = DType::kF32;
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static std::vector<int32_t> Prompt(int n) {
    std::vector<int32_t> p;
    for (int i = 0; i < n; ++i) p.push_back(1 + (i * 37 + 11) % 300);
    return p;
  }

  static GenerationRequest Scoring(std::vector<int32_t> prompt, int32_t top = 0) {
    GenerationRequest r;
    r.prompt_tokens = std::move(prompt);
    r.prompt_logprobs = true;
    r.prompt_top_logprobs = top;
    r.max_new_tokens = 0;
    return r;
  }

  static testing::TempDir* dir_;
};

testing::TempDir* PromptLogprobsTest::dir_ = nullptr;

TEST_F(PromptLogprobsTest, ScoringATextGivesTheLogprobsGeneratingItReported) {
  Collector generated, scored;  // outlive the engine, whose loop thread calls them
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  const std::vector<int32_t> prompt = Prompt(9);
  GenerationRequest generate;
  generate.prompt_tokens = prompt;
  generate.sampling.temperature = 0;
  generate.sampling.logprobs = true;
  generate.max_new_tokens = 12;
  generate.ignore_eos = true;
  ASSERT_TRUE(engine->Submit(generate, generated.Callback()).ok());
  generated.Wait();
  const std::vector<int32_t> continuation = generated.tokens();
  const std::vector<SampledToken> reported = generated.logprobs();
  ASSERT_EQ(continuation.size(), 12u);
  ASSERT_EQ(reported.size(), 12u);

  std::vector<int32_t> text = prompt;
  text.insert(text.end(), continuation.begin(), continuation.end());
  ASSERT_TRUE(engine->Submit(Scoring(text, 2), scored.Callback()).ok());
  scored.Wait();
  EXPECT_EQ(scored.reason(), FinishReason::kLength);
  EXPECT_TRUE(scored.tokens().empty());
  EXPECT_EQ(scored.timings().generated_tokens, 0);
  EXPECT_EQ(scored.timings().prompt_tokens, static_cast<int64_t>(text.size()));
  const std::vector<SampledToken> scores = scored.prompt_logprobs();
  ASSERT_EQ(scores.size(), text.size() - 1);
  for (size_t i = 0; i < scores.size(); ++i) {
    EXPECT_EQ(scores[i].token, text[i + 1]) << i;
    ASSERT_EQ(scores[i].top.size(), 2u);
    EXPECT_LE(scores[i].logprob, scores[i].top[0].logprob + 1e-6f) << i;
    EXPECT_LE(scores[i].logprob, 0.0f);
  }
  for (size_t k = 0; k < continuation.size(); ++k) {
    const SampledToken& s = scores[prompt.size() - 1 + k];
    // Greedy: the generated token was the most likely one, so it heads the alternatives.
    EXPECT_EQ(s.top[0].token, continuation[k]) << k;
    // f32 throughout; the two paths differ only in the matmuls' row counts.
    EXPECT_NEAR(s.logprob, reported[k].logprob, 2e-5) << k;
  }
}

TEST_F(PromptLogprobsTest, ChunkedAndBatchedPrefillScoresAsAlone) {
  const std::vector<int32_t> long_prompt = Prompt(45);
  std::vector<SampledToken> alone;
  {
    Collector c;  // outlives the engine, whose loop thread calls it
    auto engine = MakeEngine();
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->Submit(Scoring(long_prompt, 3), c.Callback()).ok());
    c.Wait();
    alone = c.prompt_logprobs();
  }
  ASSERT_EQ(alone.size(), 44u);
  std::vector<std::unique_ptr<Collector>> others;
  Collector chunked;
  EngineOptions options;
  options.max_tokens_per_step = 16;  // the 45-token prompt prefills in three chunks
  options.max_running = 4;
  auto engine = MakeEngine(options);
  ASSERT_NE(engine, nullptr);
  for (int i = 0; i < 3; ++i) {  // decoding requests beside it
    others.push_back(std::make_unique<Collector>());
    GenerationRequest r;
    r.prompt_tokens = Prompt(5 + i);
    r.max_new_tokens = 20;
    r.ignore_eos = true;
    ASSERT_TRUE(engine->Submit(r, others.back()->Callback()).ok());
  }
  GenerationRequest r = Scoring(long_prompt, 3);
  r.max_new_tokens = 4;  // scores, then generates: the scores come with the first token
  r.ignore_eos = true;
  ASSERT_TRUE(engine->Submit(r, chunked.Callback()).ok());
  chunked.Wait();
  for (auto& c : others) c->Wait();
  EXPECT_EQ(chunked.prompt_logprobs_event(), 0);
  EXPECT_EQ(chunked.tokens().size(), 4u);
  const std::vector<SampledToken> scores = chunked.prompt_logprobs();
  ASSERT_EQ(scores.size(), alone.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    EXPECT_EQ(scores[i].token, alone[i].token);
    EXPECT_NEAR(scores[i].logprob, alone[i].logprob, 2e-5) << i;
    ASSERT_EQ(scores[i].top.size(), 3u);
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(scores[i].top[k].logprob, alone[i].top[k].logprob, 2e-5) << i << " " << k;
    }
  }
}

TEST_F(PromptLogprobsTest, AOneTokenPromptHasNoScoresAndAFullContextPromptCanBeScored) {
  Collector one, full;  // outlive the engine, whose loop thread calls them
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->Submit(Scoring({5}), one.Callback()).ok());
  one.Wait();
  EXPECT_EQ(one.reason(), FinishReason::kLength);
  EXPECT_TRUE(one.prompt_logprobs().empty());

  // Scoring generates nothing, so the prompt may fill the whole context.
  const int64_t context = engine->model_info().context_length;
  ASSERT_TRUE(engine->Submit(Scoring(Prompt(static_cast<int>(context))), full.Callback()).ok());
  full.Wait();
  EXPECT_EQ(full.prompt_logprobs().size(), static_cast<size_t>(context - 1));
  // A generating request still needs room for one new token.
  GenerationRequest generate;
  generate.prompt_tokens = Prompt(static_cast<int>(context));
  generate.prompt_logprobs = true;
  generate.max_new_tokens = 1;
  EXPECT_EQ(engine->Submit(generate, one.Callback()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ember
