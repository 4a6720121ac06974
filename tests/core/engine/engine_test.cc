// The Engine end to end on a tiny generated Llama: greedy output equals the PyTorch reference
// (also when requests run concurrently), cancellation and deadlines free KV blocks, the waiting
// queue is bounded, bad requests are rejected with the field named, stop strings and seeds behave.
#include "core/engine/engine.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/kernels/threads.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/engine_state_watcher.h"
#include "tests/test_util/event_collector.h"
#include "tests/test_util/fake_clock.h"
#include "tests/test_util/process_threads.h"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

using testing::Collector;
using ::testing::HasSubstr;

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    tools::MakeModelOptions options;
    options.out_dir = dir_->File("tiny-llama");
    options.spec = *tools::PresetSpec("tiny-llama");
    options.seed = 1;
    ASSERT_TRUE(tools::MakeModel(options).ok());
    std::ifstream in(testing::SourceDir() + "/tests/fixtures/decoder_reference/tiny-llama.json");
    reference_ = new nlohmann::json(nlohmann::json::parse(in));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete reference_;
  }

  // The engine reports its queue and KV state to watcher_ (tests wait on it, not on sleeps).
  std::unique_ptr<Engine> MakeEngine(EngineOptions options = {}) {
    options.observer = &watcher_;
    options.model_dir = dir_->File("tiny-llama");
    options.compute = DType::kF32;
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static GenerationRequest Greedy(size_t reference_index, int32_t max_new = 12) {
    GenerationRequest r;
    r.prompt_tokens =
        (*reference_)["results"][reference_index]["prompt"].get<std::vector<int32_t>>();
    r.sampling.temperature = 0;
    r.max_new_tokens = max_new;
    r.ignore_eos = true;
    return r;
  }
  static std::vector<int32_t> ReferenceGreedy(size_t i) {
    return (*reference_)["results"][i]["greedy"].get<std::vector<int32_t>>();
  }

  static testing::TempDir* dir_;
  static nlohmann::json* reference_;
  testing::EngineStateWatcher watcher_;
};

testing::TempDir* EngineTest::dir_ = nullptr;
nlohmann::json* EngineTest::reference_ = nullptr;

TEST_F(EngineTest, GreedyMatchesThePyTorchReference) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  Collector c;
  ASSERT_TRUE(engine->Submit(Greedy(0), c.Callback()).ok());
  c.Wait();
  EXPECT_EQ(c.tokens(), ReferenceGreedy(0));
  EXPECT_EQ(c.reason(), FinishReason::kLength);
  EXPECT_EQ(c.timings().generated_tokens, 12);
  EXPECT_EQ(c.timings().prompt_tokens, 7);
  EXPECT_EQ(watcher_.WaitForBlocksUsed(0), 0);
}

// The engine keeps no OpenMP team it is not using: not the load's on the creating thread, and not
// its loop's once idle (an idle team slows every other team's regions; ReleaseIntraOpTeam). So an
// idle engine adds exactly one thread to the process, its loop, and serves again after that.
TEST_F(EngineTest, AnIdleEngineHoldsOnlyItsLoopThread) {
  ReleaseIntraOpTeam();
  const int64_t before = testing::BaselineProcessThreadCount();
  // The default thread count: teams with workers on a multi-core machine (the TSan stage runs one
  // OpenMP thread, since libgomp's barriers are invisible to TSan, and checks only the loop).
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(testing::WaitForProcessThreadCount(before + 1), before + 1) << "after the load";
  for (int round = 0; round < 2; ++round) {
    Collector c;
    ASSERT_TRUE(engine->Submit(Greedy(0), c.Callback()).ok());
    c.Wait();
    EXPECT_EQ(c.tokens(), ReferenceGreedy(0)) << round;
    EXPECT_EQ(testing::WaitForProcessThreadCount(before + 1), before + 1)
        << "idle, round " << round;
  }
}

TEST_F(EngineTest, ConcurrentRequestsGiveTheSameGreedyTokensAsAlone) {
  EngineOptions options;
  options.max_tokens_per_step = 16;  // forces the 40-token prompt into chunks beside decodes
  options.max_running = 8;
  auto engine = MakeEngine(options);
  ASSERT_NE(engine, nullptr);
  std::vector<std::unique_ptr<Collector>> collectors;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < 3; ++i) {
      collectors.push_back(std::make_unique<Collector>());
      ASSERT_TRUE(engine->Submit(Greedy(i), collectors.back()->Callback()).ok());
    }
  }
  for (size_t k = 0; k < collectors.size(); ++k) {
    collectors[k]->Wait();
    EXPECT_EQ(collectors[k]->tokens(), ReferenceGreedy(k % 3)) << "request " << k;
  }
}

TEST_F(EngineTest, CancelEndsTheRequestAndFreesItsBlocks) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  engine->SetStepDelayForTesting(absl::Milliseconds(5));
  Collector c;
  auto id = engine->Submit(Greedy(2, 200), c.Callback());
  ASSERT_TRUE(id.ok());
  c.WaitForEvents(1);
  ASSERT_TRUE(watcher_.WaitUntil(
      [](const testing::ReportedQueueState& s) { return s.kv_blocks_used > 0; }));
  engine->Cancel(*id);
  ASSERT_TRUE(c.WaitFor(absl::Seconds(10)));
  EXPECT_EQ(c.reason(), FinishReason::kCancelled);
  EXPECT_LT(c.tokens().size(), 200u);
  EXPECT_EQ(watcher_.WaitForBlocksUsed(0), 0);
}

TEST_F(EngineTest, DeadlineEndsARunningRequestAndAnExpiredOneIsRefused) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  EngineOptions options;
  options.clock = &clock;
  auto engine = MakeEngine(options);
  ASSERT_NE(engine, nullptr);
  engine->SetStepDelayForTesting(absl::Milliseconds(2));
  Collector c;
  GenerationRequest r = Greedy(0, 500);
  r.deadline = clock.Now() + absl::Seconds(1);
  ASSERT_TRUE(engine->Submit(r, c.Callback()).ok());
  c.WaitForEvents(1);
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(c.WaitFor(absl::Seconds(10)));
  EXPECT_EQ(c.reason(), FinishReason::kDeadline);
  GenerationRequest late = Greedy(0);
  late.deadline = clock.Now() - absl::Seconds(1);
  EXPECT_EQ(engine->Submit(late, [](const GenerationEvent&) {}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(EngineTest, FullWaitingQueueIsRejectedAtOnce) {
  EngineOptions options;
  options.max_running = 1;
  options.max_waiting = 1;
  auto engine = MakeEngine(options);
  ASSERT_NE(engine, nullptr);
  engine->SetStepDelayForTesting(absl::Milliseconds(20));
  Collector a, b;
  ASSERT_TRUE(engine->Submit(Greedy(0, 50), a.Callback()).ok());
  a.WaitForEvents(1);                                            // a is running
  ASSERT_TRUE(engine->Submit(Greedy(1, 5), b.Callback()).ok());  // b waits
  auto c = engine->Submit(Greedy(1, 5), [](const GenerationEvent&) {});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("waiting queue is full"));
  engine->SetStepDelayForTesting(absl::ZeroDuration());
  a.Wait();
  b.Wait();
  EXPECT_EQ(b.reason(), FinishReason::kLength);
}

TEST_F(EngineTest, BadRequestsNameTheField) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  auto check = [&](GenerationRequest r, const std::string& field) {
    auto s = engine->Submit(std::move(r), [](const GenerationEvent&) {}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(s.message(), HasSubstr(field));
  };
  GenerationRequest empty;
  check(empty, "prompt: must not be empty");
  GenerationRequest out_of_range = Greedy(0);
  out_of_range.prompt_tokens[1] = 100000;
  check(out_of_range, "prompt_token_ids[1]: 100000 is outside the vocabulary [0, 512)");
  GenerationRequest too_long = Greedy(0);
  too_long.prompt_tokens.assign(300, 5);
  check(too_long, "prompt_token_ids: 300 tokens; the context length is 256");
  // Text far past what the context could hold is refused before it is tokenized (context 256:
  // at most 64 x 256 bytes); text just under that goes to the tokenizer and the token count check.
  GenerationRequest huge_text;
  huge_text.prompt.assign(64 * 256 + 1, 'a');
  check(huge_text, "prompt: 16385 bytes cannot fit the context of 256 tokens");
  GenerationRequest long_text;
  long_text.prompt.assign(64 * 256, 'a');
  check(long_text, "tokens; the context length is 256");
  GenerationRequest max_new = Greedy(0);
  max_new.max_new_tokens = 1 << 20;
  check(max_new, "max_new_tokens: must be in [0, 4096], got 1048576");
  GenerationRequest temperature = Greedy(0);
  temperature.sampling.temperature = -1;
  check(temperature, "sampling.temperature: must be in [0, 100], got -1");
  GenerationRequest stop = Greedy(0);
  stop.stop = {"ok", ""};
  check(stop, "stop[1]: must not be empty");
  // The engine still serves afterwards.
  Collector c;
  ASSERT_TRUE(engine->Submit(Greedy(1), c.Callback()).ok());
  c.Wait();
  EXPECT_EQ(c.tokens(), ReferenceGreedy(1));
}

TEST_F(EngineTest, StopStringEndsGenerationAndIsNotReturned) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  Collector full;
  ASSERT_TRUE(engine->Submit(Greedy(0), full.Callback()).ok());
  full.Wait();
  const std::string text = full.text();
  ASSERT_GE(text.size(), 8u) << text;
  // A stop string taken from the middle of the greedy text (cut at character boundaries).
  size_t begin = 3;
  while (begin < text.size() && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) ++begin;
  size_t end = begin + 3;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
  const std::string stop = text.substr(begin, end - begin);
  Collector c;
  GenerationRequest r = Greedy(0);
  r.stop = {stop};
  ASSERT_TRUE(engine->Submit(r, c.Callback()).ok());
  c.Wait();
  EXPECT_EQ(c.reason(), FinishReason::kStopSequence);
  EXPECT_EQ(c.text(), text.substr(0, text.find(stop)));
}

TEST_F(EngineTest, SeededSamplingIsReproducibleAloneAndBatched) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  auto sampled = [](uint64_t seed) {
    GenerationRequest r = Greedy(0, 16);
    r.sampling.temperature = 0.9f;
    r.sampling.top_p = 0.95f;
    r.sampling.seed = seed;
    return r;
  };
  Collector alone;
  ASSERT_TRUE(engine->Submit(sampled(42), alone.Callback()).ok());
  alone.Wait();
  Collector batched, other1, other2;
  ASSERT_TRUE(engine->Submit(Greedy(2, 20), other1.Callback()).ok());
  ASSERT_TRUE(engine->Submit(sampled(42), batched.Callback()).ok());
  ASSERT_TRUE(engine->Submit(sampled(7), other2.Callback()).ok());
  batched.Wait();
  other1.Wait();
  other2.Wait();
  EXPECT_EQ(batched.tokens(), alone.tokens());
  EXPECT_NE(other2.tokens(), alone.tokens());
}

}  // namespace
}  // namespace ember
