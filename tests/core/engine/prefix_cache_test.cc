// Prefix caching end to end on a tiny generated Llama: with the cache on, every request's tokens
// (greedy and seeded) are identical to the cache off, alone and batched, for prompts that share a
// beginning ending inside a block or on a block boundary, prompts that are prefixes of each other,
// a sharer cancelled while others use its blocks, eviction under memory pressure and preemption of
// sharers; usage reports the cached prompt tokens.
//
// Log-probabilities agree to about 1e-6, not bit for bit: a prompt whose beginning came from the
// cache computes the rest as a shorter chunk, and the kernels' float rounding depends on the rows
// of a step. The same happens without any cache when a prompt is prefilled in chunks (the test
// measures both); bit-identical log-probabilities would need row-count-invariant kernels.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/event_collector.h"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

using testing::Collector;

// Records the prefix-cache figures the engine reports after each step.
class PrefixObserver : public EngineObserver {
 public:
  void OnStep(const StepStats& s) override {
    hit_tokens += s.prefix_cache_hit_tokens;
    queried_tokens += s.prefix_cache_queried_tokens;
    evictions = s.prefix_cache_evictions;
    preemptions += s.preemptions;
  }
  void OnQueueState(int64_t, int64_t, int64_t, int64_t) override {}
  void OnToken(bool, absl::Duration) override {}
  void OnRequestFinished(FinishReason, const RequestTimings&) override {}
  void OnRequestRejected() override {}
  std::atomic<int64_t> hit_tokens{0};
  std::atomic<int64_t> queried_tokens{0};
  std::atomic<int64_t> evictions{0};
  std::atomic<int64_t> preemptions{0};
};

// What a request produced, compared bit for bit.
struct Output {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  int64_t cached_prompt_tokens = 0;
  // Same tokens, and log-probabilities within `tolerance`.
  bool Matches(const Output& o, float tolerance) const {
    if (tokens != o.tokens || logprobs.size() != o.logprobs.size()) return false;
    for (size_t i = 0; i < logprobs.size(); ++i) {
      if (std::fabs(logprobs[i] - o.logprobs[i]) > tolerance) return false;
    }
    return true;
  }
};

// The largest log-probability difference between two runs of the same requests.
float MaxLogprobDiff(const std::vector<Output>& a, const std::vector<Output>& b) {
  float diff = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    for (size_t j = 0; j < a[i].logprobs.size() && j < b[i].logprobs.size(); ++j) {
      diff = std::max(diff, std::fabs(a[i].logprobs[j] - b[i].logprobs[j]));
    }
  }
  return diff;
}

constexpr float kLogprobTolerance = 1e-5f;

std::ostream& operator<<(std::ostream& os, const Output& o) {
  for (size_t i = 0; i < o.tokens.size(); ++i) {
    os << o.tokens[i] << ":" << (i < o.logprobs.size() ? o.logprobs[i] : 0.f) << " ";
  }
  return os;
}

class PrefixCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    tools::MakeModelOptions options;
    options.out_dir = dir_->File("tiny-llama");
    options.spec = *tools::PresetSpec("tiny-llama");
    options.seed = 1;
    ASSERT_TRUE(tools::MakeModel(options).ok());
  }
  static void TearDownTestSuite() { delete dir_; }

  std::unique_ptr<Engine> MakeEngine(bool prefix_cache, EngineOptions options = {}) {
    options.model_dir = dir_->File("tiny-llama");
    options.compute = DType::kF32;
    options.prefix_cache = prefix_cache;
    options.observer = &observer_;
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  // Prompts over a shared 60-token beginning (block size 16): cut inside a block (35), on a block
  // boundary (48), the whole (60), a prefix of all of them (20), longer ones, and one unrelated.
  static std::vector<std::vector<int32_t>> Prompts(int64_t vocab) {
    std::mt19937 rng(20261207);
    std::uniform_int_distribution<int32_t> token(3, static_cast<int32_t>(vocab) - 1);
    std::vector<int32_t> base(60);
    for (int32_t& t : base) t = token(rng);
    auto cut = [&](size_t n, size_t extra) {
      std::vector<int32_t> p(base.begin(), base.begin() + static_cast<long>(n));
      for (size_t i = 0; i < extra; ++i) p.push_back(token(rng));
      return p;
    };
    std::vector<int32_t> other(40);
    for (int32_t& t : other) t = token(rng);
    return {cut(35, 5),  cut(48, 0), cut(48, 1), cut(60, 0), cut(20, 0),
            cut(60, 17), cut(32, 0), cut(33, 9), other};
  }

  static GenerationRequest Request(const std::vector<int32_t>& prompt, bool seeded, int max_new) {
    GenerationRequest r;
    r.prompt_tokens = prompt;
    r.max_new_tokens = max_new;
    r.ignore_eos = true;
    r.sampling.logprobs = true;
    if (seeded) {
      r.sampling.temperature = 0.8f;
      r.sampling.seed = 7;
    } else {
      r.sampling.temperature = 0;
    }
    return r;
  }

  static Output Collect(Collector& c) {
    c.Wait();
    Output out;
    out.tokens = c.tokens();
    for (const SampledToken& s : c.logprobs()) out.logprobs.push_back(s.logprob);
    out.cached_prompt_tokens = c.timings().cached_prompt_tokens;
    EXPECT_EQ(c.reason(), FinishReason::kLength);
    return out;
  }

  // Every prompt, greedy and seeded, one after another.
  std::vector<Output> RunOneByOne(Engine& engine, const std::vector<std::vector<int32_t>>& prompts,
                                  int max_new = 12) {
    std::vector<Output> outputs;
    for (bool seeded : {false, true}) {
      for (const auto& p : prompts) {
        Collector c;
        EXPECT_TRUE(engine.Submit(Request(p, seeded, max_new), c.Callback()).ok());
        outputs.push_back(Collect(c));
      }
    }
    return outputs;
  }

  // Every prompt, greedy and seeded, all submitted at once.
  std::vector<Output> RunTogether(Engine& engine, const std::vector<std::vector<int32_t>>& prompts,
                                  int max_new = 12) {
    std::vector<std::unique_ptr<Collector>> collectors;
    for (bool seeded : {false, true}) {
      for (const auto& p : prompts) {
        collectors.push_back(std::make_unique<Collector>());
        EXPECT_TRUE(engine.Submit(Request(p, seeded, max_new), collectors.back()->Callback()).ok());
      }
    }
    std::vector<Output> outputs;
    for (auto& c : collectors) outputs.push_back(Collect(*c));
    return outputs;
  }

  static testing::TempDir* dir_;
  PrefixObserver observer_;
};

testing::TempDir* PrefixCacheTest::dir_ = nullptr;

TEST_F(PrefixCacheTest, OutputsAreIdenticalWithTheCacheOnAndOff) {
  auto off = MakeEngine(false);
  ASSERT_NE(off, nullptr);
  const auto prompts = Prompts(off->model_info().vocab_size);
  const std::vector<Output> reference = RunOneByOne(*off, prompts);
  off.reset();
  EXPECT_EQ(observer_.hit_tokens, 0);
  // The same without a cache but prefilled in chunks of 8: how much chunking alone moves the
  // log-probabilities.
  EngineOptions chunked_options;
  chunked_options.max_tokens_per_step = 8;
  chunked_options.max_running = 8;
  auto chunked = MakeEngine(false, chunked_options);
  ASSERT_NE(chunked, nullptr);
  const std::vector<Output> chunked_outputs = RunOneByOne(*chunked, prompts);
  chunked.reset();

  auto on = MakeEngine(true);
  ASSERT_NE(on, nullptr);
  const std::vector<Output> one_by_one = RunOneByOne(*on, prompts);
  const std::vector<Output> together = RunTogether(*on, prompts);
  ASSERT_EQ(one_by_one.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    EXPECT_TRUE(one_by_one[i].Matches(reference[i], kLogprobTolerance))
        << "request " << i << " one by one:\n"
        << one_by_one[i] << "\n"
        << reference[i];
    EXPECT_TRUE(together[i].Matches(reference[i], kLogprobTolerance))
        << "request " << i << " batched:\n"
        << together[i] << "\n"
        << reference[i];
    EXPECT_TRUE(chunked_outputs[i].Matches(reference[i], kLogprobTolerance)) << "request " << i;
  }
  std::cout << "largest logprob difference from the cache off: cache on one by one "
            << MaxLogprobDiff(one_by_one, reference) << ", batched "
            << MaxLogprobDiff(together, reference) << "; cache off, prefilled in chunks of 8: "
            << MaxLogprobDiff(chunked_outputs, reference) << "\n";
  // One by one: the 48-token prompt follows the 35-token one, which left two full blocks (32
  // tokens) of the shared beginning; the seeded round finds every prompt's full blocks, and a
  // prompt made only of full blocks computes just its last token again.
  const int64_t block = on->model_info().block_size;
  EXPECT_EQ(one_by_one[1].cached_prompt_tokens, 32);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Output& again = one_by_one[prompts.size() + i];
    const int64_t n = static_cast<int64_t>(prompts[i].size());
    EXPECT_EQ(again.cached_prompt_tokens, n % block == 0 ? n - 1 : n / block * block)
        << "prompt " << i;
  }
  EXPECT_GT(observer_.hit_tokens, 0);
  EXPECT_LE(observer_.hit_tokens, observer_.queried_tokens);
}

// A request sharing its beginning with a running one that is cancelled keeps its output.
TEST_F(PrefixCacheTest, CancellingASharerLeavesTheOthersExact) {
  auto off = MakeEngine(false);
  ASSERT_NE(off, nullptr);
  const auto prompts = Prompts(off->model_info().vocab_size);
  Collector ref_c;
  ASSERT_TRUE(off->Submit(Request(prompts[5], false, 40), ref_c.Callback()).ok());
  const Output reference = Collect(ref_c);
  off.reset();

  auto on = MakeEngine(true);
  ASSERT_NE(on, nullptr);
  on->SetStepDelayForTesting(absl::Milliseconds(2));
  Collector first;
  auto id = on->Submit(Request(prompts[3], false, 200), first.Callback());
  ASSERT_TRUE(id.ok());
  // Wait until the first has computed its prompt (its blocks are cached), then share them.
  while (first.tokens().empty()) absl::SleepFor(absl::Milliseconds(1));
  Collector second;
  ASSERT_TRUE(on->Submit(Request(prompts[5], false, 40), second.Callback()).ok());
  absl::SleepFor(absl::Milliseconds(10));
  on->Cancel(*id);
  first.Wait();
  EXPECT_EQ(first.reason(), FinishReason::kCancelled);
  const Output shared = Collect(second);
  EXPECT_TRUE(shared.Matches(reference, kLogprobTolerance)) << shared << "\n" << reference;
  EXPECT_EQ(shared.cached_prompt_tokens, 48);  // three full blocks of the 60 shared tokens
}

// A KV cache too small for every prompt at once: cached blocks are evicted for new contents and
// running sequences are preempted, and every output stays exact.
TEST_F(PrefixCacheTest, EvictionAndPreemptionUnderMemoryPressureKeepOutputsExact) {
  auto off = MakeEngine(false);
  ASSERT_NE(off, nullptr);
  const auto prompts = Prompts(off->model_info().vocab_size);
  const std::vector<Output> reference = RunOneByOne(*off, prompts, 40);
  const int64_t block_bytes =
      static_cast<int64_t>(off->model_info().kv_cache_bytes) / off->model_info().kv_blocks;
  off.reset();

  EngineOptions small;
  small.kv_cache_bytes = 14 * block_bytes;  // the longest request needs 7 blocks
  small.max_running = 8;
  auto on = MakeEngine(true, small);
  ASSERT_NE(on, nullptr);
  ASSERT_EQ(on->model_info().kv_blocks, 14);
  const std::vector<Output> together = RunTogether(*on, prompts, 40);
  const std::vector<Output> one_by_one = RunOneByOne(*on, prompts, 40);
  for (size_t i = 0; i < reference.size(); ++i) {
    EXPECT_TRUE(together[i].Matches(reference[i], kLogprobTolerance)) << "request " << i;
    EXPECT_TRUE(one_by_one[i].Matches(reference[i], kLogprobTolerance)) << "request " << i;
  }
  EXPECT_GT(observer_.evictions, 0);
  EXPECT_GT(observer_.preemptions, 0);
}

}  // namespace
}  // namespace ember
