// ember's MarianMT encoder-decoder and tokenizer against the independent PyTorch reference
// (tools/reference/marian_reference.py; fixtures in tests/fixtures/marian_reference/, made by
// tools/reference/make_marian_fixtures.sh from the same generator presets and seed used here).
//
// Tolerances (as for the decoder-only models, decoder_fidelity_test.cc):
//  * f32: |logit - reference| <= 1e-4 * max(1, max |reference logit|) at every greedy step, the
//    decoder teacher-forced along the reference's greedy path. f32 rounding of these 48..128-term
//    dot products is ~1e-6; a wrong sinusoid, a missing embed scale, post- vs pre-LN, or a cross-
//    attention reading the wrong blocks moves logits by 1e-2 or more.
//  * bf16: 0.05 * max(1, max |reference logit|), and greedy tokens must agree wherever the
//    reference's margin between its top two processed logits exceeds twice that bound.
#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/logits_processors.h"
#include "core/model/kv_cache.h"
#include "core/model/marian_model.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

struct Sentence {
  std::string source;
  std::vector<int32_t> source_ids;
  std::vector<int32_t> greedy;
  std::vector<std::vector<float>> greedy_logits;  // raw, one row per greedy step
  std::vector<double> greedy_margin;              // +inf where the reference recorded null
  std::string greedy_text;
};

std::vector<Sentence> LoadReference(const std::string& preset) {
  std::ifstream in(testing::SourceDir() + "/tests/fixtures/marian_reference/" + preset + ".json");
  EXPECT_TRUE(in.good()) << "missing fixture for " << preset;
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Sentence> out;
  for (const auto& r : j["results"]) {
    Sentence s;
    s.source = r["source"].get<std::string>();
    s.source_ids = r["source_ids"].get<std::vector<int32_t>>();
    s.greedy = r["greedy"].get<std::vector<int32_t>>();
    s.greedy_logits = r["greedy_logits"].get<std::vector<std::vector<float>>>();
    for (const auto& m : r["greedy_margin"]) {
      s.greedy_margin.push_back(m.is_null() ? INFINITY : m.get<double>());
    }
    s.greedy_text = r["greedy_text"].get<std::string>();
    out.push_back(std::move(s));
  }
  return out;
}

double Scale(const std::vector<float>& v) {
  double m = 1.0;
  for (float x : v) m = std::max(m, std::fabs(double{x}));
  return m;
}

// Consecutive blocks per table from one cache (no reuse needed here).
struct Tables {
  int64_t block_size;
  int32_t next = 0;
  std::vector<int32_t> Make(int64_t positions) {
    std::vector<int32_t> t;
    for (int64_t p = 0; p < positions; p += block_size) t.push_back(next++);
    return t;
  }
};

class MarianFidelityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    tools::MakeModelOptions options;
    options.out_dir = dir_.File(GetParam());
    auto spec = tools::PresetSpec(GetParam());
    ASSERT_TRUE(spec.ok()) << spec.status();
    options.spec = *spec;
    options.seed = 1;
    ASSERT_TRUE(tools::MakeModel(options).ok());
    reference_ = LoadReference(GetParam());
    ASSERT_FALSE(reference_.empty());
  }

  std::unique_ptr<MarianModel> Load(DType compute) {
    ModelOptions options;
    options.compute = compute;
    auto model = MarianModel::Load(dir_.File(GetParam()), options);
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? std::move(*model) : nullptr;
  }

  // Runs the reference's greedy path teacher-forced and calls check(step, logits) at each step.
  template <typename Check>
  void RunGreedyPath(MarianModel& model, KvCache& cache, const Sentence& ref, Check check) {
    const int64_t vocab = model.config().vocab_size;
    Tables tables{cache.block_size()};
    const std::vector<int32_t> cross = tables.Make(static_cast<int64_t>(ref.source_ids.size()));
    const std::vector<int32_t> table = tables.Make(static_cast<int64_t>(ref.greedy.size() + 1));
    std::vector<int32_t> tokens = {model.config().encoder_decoder->decoder_start_token_id};
    std::vector<float> logits(static_cast<size_t>(vocab));
    for (size_t step = 0; step < ref.greedy.size(); ++step) {
      SequenceStep s;
      s.tokens = absl::MakeConstSpan(&tokens.back(), 1);
      s.past = static_cast<int64_t>(tokens.size()) - 1;
      s.block_table = table;
      s.want_logits = true;
      s.source = ref.source_ids;
      s.cross_block_table = cross;
      ASSERT_TRUE(model.Forward({&s, 1}, cache, logits.data()).ok());
      check(step, logits);
      tokens.push_back(ref.greedy[step]);
    }
  }

  testing::TempDir dir_;
  std::vector<Sentence> reference_;
};

TEST_P(MarianFidelityTest, TokenizerMatchesTheReference) {
  auto tokenizer = LoadTokenizer(dir_.File(GetParam()));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  for (const Sentence& ref : reference_) {
    auto ids = (*tokenizer)->Encode(ref.source, /*add_special_tokens=*/true);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, ref.source_ids) << ref.source;
    auto text = (*tokenizer)->Decode(ref.greedy, /*skip_special_tokens=*/true);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, ref.greedy_text) << ref.source;
  }
}

TEST_P(MarianFidelityTest, F32LogitsAndGreedyTokensMatchPyTorch) {
  auto model = Load(DType::kF32);
  ASSERT_NE(model, nullptr);
  auto cache = KvCache::Create(model->config(), 256, 8, DType::kF32);
  ASSERT_TRUE(cache.ok());
  const int64_t vocab = model->config().vocab_size;
  const EncoderDecoderConfig& ed = *model->config().encoder_decoder;
  for (const Sentence& ref : reference_) {
    SCOPED_TRACE(ref.source);
    RunGreedyPath(*model, **cache, ref, [&](size_t step, std::vector<float>& logits) {
      const std::vector<float>& expected = ref.greedy_logits[step];
      const double tol = 1e-4 * Scale(expected);
      for (int64_t i = 0; i < vocab; ++i) {
        ASSERT_NEAR(logits[i], expected[i], tol) << "step " << step << " logit " << i;
      }
      BanTokens(ed.banned_token_ids, logits.data(), vocab);
      if (step + 1 == ref.greedy.size()) ForceToken(*ed.forced_eos_token_id, logits.data(), vocab);
      const int32_t next =
          static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      EXPECT_EQ(next, ref.greedy[step]) << "greedy step " << step;
    });
  }
}

TEST_P(MarianFidelityTest, Bf16StaysCloseAndAgreesOutsideNearTies) {
  auto model = Load(DType::kBF16);
  ASSERT_NE(model, nullptr);
  auto cache = KvCache::Create(model->config(), 256, 8, DType::kBF16);
  ASSERT_TRUE(cache.ok());
  const int64_t vocab = model->config().vocab_size;
  const EncoderDecoderConfig& ed = *model->config().encoder_decoder;
  double worst = 0;
  for (const Sentence& ref : reference_) {
    SCOPED_TRACE(ref.source);
    RunGreedyPath(*model, **cache, ref, [&](size_t step, std::vector<float>& logits) {
      const std::vector<float>& expected = ref.greedy_logits[step];
      const double bound = 0.05 * Scale(expected);
      for (int64_t i = 0; i < vocab; ++i) {
        worst = std::max(worst, std::fabs(double{logits[i]} - expected[i]) / Scale(expected));
        ASSERT_NEAR(logits[i], expected[i], bound) << "step " << step << " logit " << i;
      }
      BanTokens(ed.banned_token_ids, logits.data(), vocab);
      if (step + 1 == ref.greedy.size()) ForceToken(*ed.forced_eos_token_id, logits.data(), vocab);
      const int32_t next =
          static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (ref.greedy_margin[step] > 2 * bound) {
        EXPECT_EQ(next, ref.greedy[step]) << "greedy step " << step;
      }
    });
  }
  std::printf("bf16 worst relative logit error: %.4f\n", worst);
}

INSTANTIATE_TEST_SUITE_P(Presets, MarianFidelityTest,
                         ::testing::Values("tiny-marian", "tiny-marian-preln"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace ember
