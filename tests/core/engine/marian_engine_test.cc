// The Engine serving a MarianMT model end to end: source text in, translation out, greedy and
// beam search, against the independent PyTorch reference (tests/fixtures/marian_reference/,
// tools/reference/marian_reference.py), alone and batched with other requests.
#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/engine_state_watcher.h"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

using ::testing::HasSubstr;

// One request's final outcome.
struct Outcome {
  std::vector<int32_t> tokens;
  std::string text;
  FinishReason reason = FinishReason::kNone;
  std::vector<Hypothesis> hypotheses;
  int events = 0;
};

class Pending {
 public:
  EventCallback Callback() {
    return [this](const GenerationEvent& e) {
      absl::MutexLock lock(&mu_);
      outcome_.tokens.insert(outcome_.tokens.end(), e.tokens.begin(), e.tokens.end());
      outcome_.text += e.text;
      ++outcome_.events;
      if (e.finished) {
        outcome_.reason = e.finish_reason;
        outcome_.hypotheses = e.hypotheses;
        done_.Notify();
      }
    };
  }
  Outcome Wait() {
    done_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    return outcome_;
  }

 private:
  absl::Mutex mu_;
  Outcome outcome_;
  absl::Notification done_;
};

EarlyStopping ParseEarlyStopping(const nlohmann::json& j) {
  if (j.is_string()) return EarlyStopping::kNever;
  return j.get<bool>() ? EarlyStopping::kTrue : EarlyStopping::kHeuristic;
}

class MarianEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    tools::MakeModelOptions options;
    options.out_dir = dir_->File("tiny-marian");
    options.spec = *tools::PresetSpec("tiny-marian");
    options.seed = 1;
    ASSERT_TRUE(tools::MakeModel(options).ok());
    std::ifstream in(testing::SourceDir() + "/tests/fixtures/marian_reference/tiny-marian.json");
    reference_ = new nlohmann::json(nlohmann::json::parse(in));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete reference_;
  }

  // The engine reports its queue and KV state to watcher_ (tests wait on it, not on sleeps).
  std::unique_ptr<Engine> MakeEngine() {
    EngineOptions options;
    options.observer = &watcher_;
    options.model_dir = dir_->File("tiny-marian");
    options.compute = DType::kF32;
    options.block_size = 8;
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static const nlohmann::json& Result(size_t i) { return (*reference_)["results"][i]; }
  static size_t NumSentences() { return (*reference_)["results"].size(); }

  static GenerationRequest Greedy(size_t i) {
    GenerationRequest r;
    r.prompt = Result(i)["source"].get<std::string>();
    r.sampling.temperature = 0;
    r.max_new_tokens = (*reference_)["greedy_config"]["max_new_tokens"].get<int32_t>();
    return r;
  }

  static GenerationRequest Beam(size_t i, size_t config) {
    const nlohmann::json& c = (*reference_)["beam_configs"][config];
    GenerationRequest r;
    r.prompt = Result(i)["source"].get<std::string>();
    r.sampling.temperature = 0;
    r.max_new_tokens = c["max_new_tokens"].get<int32_t>();
    r.beam.num_beams = c["num_beams"].get<int32_t>();
    r.beam.length_penalty = c["length_penalty"].get<double>();
    r.beam.early_stopping = ParseEarlyStopping(c["early_stopping"]);
    r.beam.no_repeat_ngram_size = c["no_repeat_ngram_size"].get<int32_t>();
    r.beam.num_return_sequences = c["num_return_sequences"].get<int32_t>();
    return r;
  }

  // Beam results against the reference: the same n-best length, scores within 1e-4, and the same
  // tokens wherever no decision of the reference's run was closer than 1e-4 (its min_gap): below
  // that, f32 rounding differences between two correct implementations may flip a choice.
  static void ExpectBeamMatches(const Outcome& got, size_t i, size_t config) {
    const nlohmann::json& ref = Result(i)["beam"][config];
    const nlohmann::json& hyps = ref["hypotheses"];
    ASSERT_EQ(got.hypotheses.size(), hyps.size());
    const bool exact = ref["min_gap"].get<double>() > 1e-4;
    for (size_t h = 0; h < hyps.size(); ++h) {
      EXPECT_NEAR(got.hypotheses[h].score, hyps[h]["score"].get<double>(), 1e-4) << "hyp " << h;
      if (exact) {
        EXPECT_EQ(got.hypotheses[h].tokens, hyps[h]["tokens"].get<std::vector<int32_t>>());
        EXPECT_EQ(got.hypotheses[h].text, hyps[h]["text"].get<std::string>());
      }
      if (h > 0) {
        EXPECT_LE(got.hypotheses[h].score, got.hypotheses[h - 1].score);
      }
    }
    EXPECT_EQ(got.tokens, got.hypotheses[0].tokens);
    EXPECT_EQ(got.text, got.hypotheses[0].text);
    EXPECT_EQ(got.events, 1);
    // The fixtures' beams all end on the eos forced at the last step: the length limit.
    EXPECT_EQ(got.reason, FinishReason::kLength);
  }

  static testing::TempDir* dir_;
  testing::EngineStateWatcher watcher_;
  static nlohmann::json* reference_;
};

testing::TempDir* MarianEngineTest::dir_ = nullptr;
nlohmann::json* MarianEngineTest::reference_ = nullptr;

TEST_F(MarianEngineTest, ReportsAnEncoderDecoderModel) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->model_info().encoder_decoder);
  EXPECT_EQ(engine->model_info().architecture, "marian");
}

TEST_F(MarianEngineTest, GreedyTranslationsMatchTheReferenceAloneAndBatched) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  std::vector<Outcome> alone;
  for (size_t i = 0; i < NumSentences(); ++i) {
    Pending p;
    ASSERT_TRUE(engine->Submit(Greedy(i), p.Callback()).ok());
    alone.push_back(p.Wait());
    EXPECT_EQ(alone[i].tokens, Result(i)["greedy"].get<std::vector<int32_t>>()) << i;
    EXPECT_EQ(alone[i].text, Result(i)["greedy_text"].get<std::string>()) << i;
    // The reference's last token is the forced eos: the length limit ended it.
    EXPECT_EQ(alone[i].reason, FinishReason::kLength);
  }
  // Batched: every sentence at once (different source lengths, encoders and decoders mixed).
  std::vector<std::unique_ptr<Pending>> pending;
  for (size_t i = 0; i < NumSentences(); ++i) {
    pending.push_back(std::make_unique<Pending>());
    ASSERT_TRUE(engine->Submit(Greedy(i), pending.back()->Callback()).ok());
  }
  for (size_t i = 0; i < NumSentences(); ++i) {
    const Outcome batched = pending[i]->Wait();
    EXPECT_EQ(batched.tokens, alone[i].tokens) << i;
    EXPECT_EQ(batched.text, alone[i].text) << i;
  }
}

TEST_F(MarianEngineTest, BeamSearchMatchesTheReferenceAloneAndBatched) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  const size_t configs = (*reference_)["beam_configs"].size();
  for (size_t c = 0; c < configs; ++c) {
    for (size_t i = 0; i < NumSentences(); ++i) {
      SCOPED_TRACE(::testing::Message() << "config " << c << " sentence " << i);
      Pending p;
      ASSERT_TRUE(engine->Submit(Beam(i, c), p.Callback()).ok());
      ExpectBeamMatches(p.Wait(), i, c);
    }
  }
  // Every beam request of config 0 at once, beside greedy requests.
  std::vector<std::unique_ptr<Pending>> beams, greedy;
  for (size_t i = 0; i < NumSentences(); ++i) {
    beams.push_back(std::make_unique<Pending>());
    ASSERT_TRUE(engine->Submit(Beam(i, 0), beams.back()->Callback()).ok());
    greedy.push_back(std::make_unique<Pending>());
    ASSERT_TRUE(engine->Submit(Greedy(i), greedy.back()->Callback()).ok());
  }
  for (size_t i = 0; i < NumSentences(); ++i) {
    SCOPED_TRACE(::testing::Message() << "batched sentence " << i);
    ExpectBeamMatches(beams[i]->Wait(), i, 0);
    EXPECT_EQ(greedy[i]->Wait().tokens, Result(i)["greedy"].get<std::vector<int32_t>>());
  }
  EXPECT_EQ(watcher_.WaitForBlocksUsed(0), 0)
      << "beam groups and cross-attention blocks must all be freed";
}

TEST_F(MarianEngineTest, CancellingABeamSearchInFlightEndsItAndFreesItsWholeGroup) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  // Slow steps, so the beam group is still decoding when the cancel arrives: it reserves its
  // blocks at admission but sends no event before its last step.
  engine->SetStepDelayForTesting(absl::Milliseconds(20));
  Pending beam, greedy;
  auto id = engine->Submit(Beam(0, 0), beam.Callback());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(engine->Submit(Greedy(1), greedy.Callback()).ok());
  ASSERT_TRUE(watcher_.WaitUntil(
      [](const testing::ReportedQueueState& s) { return s.kv_blocks_used > 0; }));
  engine->Cancel(*id);
  const Outcome cancelled = beam.Wait();
  EXPECT_EQ(cancelled.reason, FinishReason::kCancelled);
  EXPECT_EQ(cancelled.events, 1);
  EXPECT_TRUE(cancelled.hypotheses.empty());
  // The greedy request beside it is untouched.
  EXPECT_EQ(greedy.Wait().tokens, Result(1)["greedy"].get<std::vector<int32_t>>());
  EXPECT_EQ(watcher_.WaitForBlocksUsed(0), 0)
      << "the cancelled group's beams and cross blocks must be freed";
  // The engine keeps serving beam requests afterwards.
  engine->SetStepDelayForTesting(absl::ZeroDuration());
  Pending again;
  ASSERT_TRUE(engine->Submit(Beam(0, 0), again.Callback()).ok());
  ExpectBeamMatches(again.Wait(), 0, 0);
}

TEST_F(MarianEngineTest, SeededSamplingIsReproducibleAloneAndBatchedAndNeverEmitsThePad) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  auto sampled = [](size_t i) {
    GenerationRequest r = Greedy(i);
    r.sampling.temperature = 1.5f;  // flat enough that several tokens get drawn
    r.sampling.seed = 1000 + i;
    return r;
  };
  std::vector<Outcome> alone;
  for (size_t i = 0; i < NumSentences(); ++i) {
    Pending p;
    ASSERT_TRUE(engine->Submit(sampled(i), p.Callback()).ok());
    alone.push_back(p.Wait());
  }
  std::vector<std::unique_ptr<Pending>> pending;
  for (size_t i = 0; i < NumSentences(); ++i) {
    pending.push_back(std::make_unique<Pending>());
    ASSERT_TRUE(engine->Submit(sampled(i), pending.back()->Callback()).ok());
  }
  const int32_t pad = (*reference_)["config"]["pad_token_id"].get<int32_t>();
  bool differs_from_greedy = false;
  for (size_t i = 0; i < NumSentences(); ++i) {
    const Outcome batched = pending[i]->Wait();
    EXPECT_EQ(batched.tokens, alone[i].tokens) << i;
    EXPECT_EQ(std::count(alone[i].tokens.begin(), alone[i].tokens.end(), pad), 0) << i;
    differs_from_greedy |= alone[i].tokens != Result(i)["greedy"].get<std::vector<int32_t>>();
  }
  EXPECT_TRUE(differs_from_greedy) << "temperature 1.5 should not reproduce greedy everywhere";
}

TEST_F(MarianEngineTest, RefusesBeamSettingsItCannotHonour) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  auto submit = [&](auto edit) {
    GenerationRequest r = Beam(0, 0);
    edit(r);
    return engine->Submit(std::move(r), [](const GenerationEvent&) {}).status();
  };
  absl::Status s = submit([](GenerationRequest& r) { r.sampling.top_k = 5; });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("sampling.top_k: not supported with beam search"));
  s = submit([](GenerationRequest& r) { r.beam.num_beams = 65; });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("beam.num_beams: must be in [0, 64], got 65"));
  s = submit([](GenerationRequest& r) { r.beam.num_return_sequences = 5; });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("beam.num_return_sequences: must be in [0, beam.num_beams"));
  s = submit([](GenerationRequest& r) { r.stop = {"x"}; });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("stop: not supported with beam search"));
  // A source longer than the encoder's 128 positions (one beam, so one sequence).
  s = submit([](GenerationRequest& r) {
    r.beam.num_beams = 1;
    r.beam.num_return_sequences = 1;
    r.prompt.clear();
    for (int k = 0; k < 200; ++k) r.prompt += "cat ";
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("prompt: the source has"));
  EXPECT_THAT(s.message(), HasSubstr("the encoder takes at most 128"));
}

}  // namespace
}  // namespace ember
