// Beam search on a decoder-only model, whose beams share KV blocks copy-on-write (BeamBlocks):
// with 4-position blocks, prompts ending inside a block, on a boundary and spanning several, each
// hypothesis's reported sum of log-probabilities equals the score of its tokens computed
// independently (a prompt-logprobs request over prompt + hypothesis, one sequence, no sharing), so
// every beam attended to exactly its own keys and values; results are identical alone and batched,
// and every block is returned at the end.
#include <cmath>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/engine/engine.h"
#include "gtest/gtest.h"
#include "tests/test_util/engine_state_watcher.h"
#include "tests/test_util/event_collector.h"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

// One beam request's final hypotheses.
struct BeamResult {
  absl::Notification done;
  std::vector<Hypothesis> hypotheses;
  FinishReason reason = FinishReason::kError;
  EventCallback Callback() {
    return [this](const GenerationEvent& e) {
      if (!e.finished) return;
      hypotheses = e.hypotheses;
      reason = e.finish_reason;
      done.Notify();
    };
  }
};

class BeamKvSharingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    tools::MakeModelOptions options;
    options.out_dir = dir_->File("tiny-llama");
    options.spec = *tools::PresetSpec("tiny-llama");
    options.seed = 5;
    ASSERT_TRUE(tools::MakeModel(options).ok());
  }
  static void TearDownTestSuite() { delete dir_; }

  // The engine reports its queue and KV state to watcher_.
  std::unique_ptr<Engine> MakeEngine() {
    EngineOptions options;
    options.observer = &watcher_;
    options.model_dir = dir_->File("tiny-llama");
    options.compute = DType::kF32;
    options.block_size = 4;
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static std::vector<int32_t> Prompt(int n) {
    std::vector<int32_t> p;
    for (int i = 0; i < n; ++i) p.push_back(1 + (i * 53 + 7 * n) % 300);
    return p;
  }

  static GenerationRequest Beam(std::vector<int32_t> prompt) {
    GenerationRequest r;
    r.prompt_tokens = std::move(prompt);
    r.max_new_tokens = 11;
    r.sampling.temperature = 0;
    r.beam.num_beams = 4;
    r.beam.num_return_sequences = 4;
    r.beam.early_stopping = EarlyStopping::kNever;
    return r;
  }

  // Sum of the log-probabilities of `generated` after `prompt`, from one scoring request.
  static double Score(Engine& engine, const std::vector<int32_t>& prompt,
                      const std::vector<int32_t>& generated) {
    GenerationRequest r;
    r.prompt_tokens = prompt;
    r.prompt_tokens.insert(r.prompt_tokens.end(), generated.begin(), generated.end());
    r.prompt_logprobs = true;
    r.max_new_tokens = 0;
    testing::Collector c;
    EXPECT_TRUE(engine.Submit(r, c.Callback()).ok());
    c.Wait();
    const std::vector<SampledToken> scores = c.prompt_logprobs();
    double sum = 0;
    for (size_t i = prompt.size() - 1; i < scores.size(); ++i) sum += scores[i].logprob;
    return sum;
  }

  testing::EngineStateWatcher watcher_;
  static testing::TempDir* dir_;
};

testing::TempDir* BeamKvSharingTest::dir_ = nullptr;

TEST_F(BeamKvSharingTest, EveryHypothesisScoresAsItsOwnSequenceAloneAndBatched) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  const std::vector<int> lengths = {1, 3, 4, 9, 16, 17};
  std::vector<std::vector<Hypothesis>> alone;
  int checked = 0;
  for (int n : lengths) {
    SCOPED_TRACE(::testing::Message() << "prompt of " << n);
    BeamResult r;
    const auto submitted = engine->Submit(Beam(Prompt(n)), r.Callback());
    ASSERT_TRUE(submitted.ok()) << submitted.status();
    r.done.WaitForNotification();
    ASSERT_NE(r.reason, FinishReason::kError);
    ASSERT_EQ(r.hypotheses.size(), 4u);
    for (const Hypothesis& h : r.hypotheses) {
      ASSERT_FALSE(h.tokens.empty());
      // f32 throughout; the two paths differ only in summation order of the softmax.
      EXPECT_NEAR(Score(*engine, Prompt(n), h.tokens), h.sum_logprob,
                  1e-4 * (1 + std::abs(h.sum_logprob)));
      ++checked;
    }
    alone.push_back(r.hypotheses);
  }
  EXPECT_EQ(checked, 4 * static_cast<int>(lengths.size()));
  // All at once, beside greedy requests: the same hypotheses.
  std::vector<std::unique_ptr<BeamResult>> batched;
  std::vector<std::unique_ptr<testing::Collector>> greedy;
  for (int n : lengths) {
    batched.push_back(std::make_unique<BeamResult>());
    ASSERT_TRUE(engine->Submit(Beam(Prompt(n)), batched.back()->Callback()).ok());
    GenerationRequest g;
    g.prompt_tokens = Prompt(n + 2);
    g.max_new_tokens = 9;
    g.sampling.temperature = 0;
    greedy.push_back(std::make_unique<testing::Collector>());
    ASSERT_TRUE(engine->Submit(g, greedy.back()->Callback()).ok());
  }
  for (size_t i = 0; i < lengths.size(); ++i) {
    batched[i]->done.WaitForNotification();
    greedy[i]->Wait();
    ASSERT_EQ(batched[i]->hypotheses.size(), alone[i].size());
    for (size_t h = 0; h < alone[i].size(); ++h) {
      EXPECT_EQ(batched[i]->hypotheses[h].tokens, alone[i][h].tokens) << i << "/" << h;
    }
  }
  // Every block went back (the prefix cache may keep full greedy blocks, held by nobody).
  EXPECT_EQ(watcher_.WaitForBlocksUsed(0), 0);
}

}  // namespace
}  // namespace ember
