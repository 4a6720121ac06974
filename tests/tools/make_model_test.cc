// ember_make_model's output: complete, loadable by ember's own loaders, exactly the Hugging Face
// names/shapes/layout, and byte-for-byte deterministic.
#include "tools/make_model/make_model.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/model/checkpoint.h"
#include "core/model/generation_config.h"
#include "core/model/model_config.h"
#include "core/tensor/half.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/temp_dir.h"

namespace ember::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using Json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

MakeModelOptions Options(const std::string& preset, const std::string& out, uint64_t seed = 7) {
  MakeModelOptions options;
  options.spec = *PresetSpec(preset);
  options.out_dir = out;
  options.seed = seed;
  return options;
}

MakeModelReport Make(const MakeModelOptions& options) {
  absl::StatusOr<MakeModelReport> report = MakeModel(options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *report : MakeModelReport();
}

// Checks one safetensors file's bytes against the official writer's layout rules, beyond what the
// reader validates: __metadata__ first, names sorted, header padded with spaces to 8.
void ExpectOfficialLayout(const std::string& path) {
  const std::string bytes = ReadAll(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ(n % 8, 0u) << path;
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.rfind("{\"__metadata__\":{\"format\":\"pt\"},", 0), 0u) << header.substr(0, 80);
  const size_t end = header.find_last_not_of(' ');
  EXPECT_EQ(header[end], '}');
  const nlohmann::ordered_json json = nlohmann::ordered_json::parse(header.substr(0, end + 1));
  std::string previous;
  uint64_t offset = 0;
  for (const auto& [name, info] : json.items()) {
    if (name == "__metadata__") continue;
    EXPECT_LT(previous, name) << "tensors out of order in " << path;
    previous = name;
    EXPECT_EQ(info["data_offsets"][0].get<uint64_t>(), offset) << name;
    offset = info["data_offsets"][1].get<uint64_t>();
  }
  EXPECT_EQ(8 + n + offset, bytes.size()) << path;
}

// Every file of `a` equals the same file of `b`.
void ExpectSameFiles(const std::string& a, const std::string& b, const MakeModelReport& report) {
  for (const std::string& name : report.files) {
    EXPECT_TRUE(ReadAll(a + "/" + name) == ReadAll(b + "/" + name)) << name << " differs";
  }
}

class PresetTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PresetTest, LoadsWithEmberLoadersAndMatchesTheSpec) {
  testing::TempDir dir;
  const MakeModelOptions options = Options(GetParam(), dir.path());
  const ModelSpec& spec = options.spec;
  const MakeModelReport report = Make(options);
  EXPECT_THAT(report.files, ::testing::Contains("model.safetensors"));
  EXPECT_EQ(report.padding_tokens, 0) << "the tiny presets should be fully trained";

  absl::StatusOr<ModelConfig> config = LoadModelConfig(dir.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->architecture,
            spec.family == ModelFamily::kGpt2 ? Architecture::kGpt2 : Architecture::kLlama);
  EXPECT_EQ(config->vocab_size, spec.vocab_size);
  EXPECT_EQ(config->hidden_size, spec.hidden_size);
  EXPECT_EQ(config->num_layers, spec.num_layers);
  EXPECT_EQ(config->num_heads, spec.num_heads);
  EXPECT_EQ(config->num_kv_heads, spec.num_kv_heads);
  EXPECT_EQ(config->intermediate_size, spec.intermediate_size);
  EXPECT_EQ(config->max_position_embeddings, spec.max_positions);
  EXPECT_EQ(config->tie_word_embeddings, spec.tie_word_embeddings);
  EXPECT_EQ(config->attention_qkv_bias, spec.family != ModelFamily::kLlama);
  EXPECT_DOUBLE_EQ(config->norm_eps, spec.norm_eps);
  EXPECT_EQ(config->torch_dtype, "float32");
  ASSERT_TRUE(config->bos_token_id.has_value());
  ASSERT_FALSE(config->eos_token_ids.empty());
  absl::StatusOr<GenerationConfig> generation = LoadGenerationConfig(dir.path());
  ASSERT_TRUE(generation.ok()) << generation.status();
  EXPECT_FALSE(ResolveEosTokenIds(*config, *generation).empty());

  absl::StatusOr<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::Open(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  std::vector<std::string> expected_names;
  for (const WeightSpec& w : CheckpointTensors(spec)) {
    expected_names.push_back(w.name);
    const SafetensorsTensorInfo* info = (*checkpoint)->Find(w.name);
    ASSERT_NE(info, nullptr) << w.name;
    EXPECT_EQ(info->dtype_name, "F32");
    EXPECT_EQ(info->shape, w.shape) << w.name;
  }
  EXPECT_THAT((*checkpoint)->TensorNames(), UnorderedElementsAreArray(expected_names));
  ExpectOfficialLayout(dir.File("model.safetensors"));

  // tokenizer.json: a vocabulary of exactly vocab_size ids with no gaps, merges over known tokens.
  const Json tokenizer = Json::parse(ReadAll(dir.File("tokenizer.json")));
  const Json& vocab = tokenizer["model"]["vocab"];
  std::set<int64_t> ids;
  for (const auto& [token, id] : vocab.items()) ids.insert(id.get<int64_t>());
  for (const Json& added : tokenizer["added_tokens"]) ids.insert(added["id"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(ids.size()), spec.vocab_size);
  EXPECT_EQ(*ids.rbegin(), spec.vocab_size - 1);
  for (const Json& merge : tokenizer["model"]["merges"]) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ');
    ASSERT_NE(space, std::string::npos) << text;
    EXPECT_TRUE(vocab.contains(text.substr(0, space))) << text;
    EXPECT_TRUE(vocab.contains(text.substr(space + 1))) << text;
    EXPECT_TRUE(vocab.contains(text.substr(0, space) + text.substr(space + 1))) << text;
  }
  const Json tokenizer_config = Json::parse(ReadAll(dir.File("tokenizer_config.json")));
  EXPECT_EQ(tokenizer_config["model_max_length"].get<int64_t>(), spec.max_positions);
  EXPECT_TRUE(Json::parse(ReadAll(dir.File("special_tokens_map.json"))).is_object());
}

INSTANTIATE_TEST_SUITE_P(TinyPresets, PresetTest,
                         ::testing::Values("tiny-gpt2", "tiny-llama", "tiny-llama-gqa",
                                           "tiny-qwen2"));

TEST(MakeModelTest, SameSeedGivesIdenticalBytesDifferentSeedDifferentWeights) {
  testing::TempDir a, b, c;
  const MakeModelReport report = Make(Options("tiny-llama", a.path(), 1));
  Make(Options("tiny-llama", b.path(), 1));
  Make(Options("tiny-llama", c.path(), 2));
  ExpectSameFiles(a.path(), b.path(), report);
  // The seed moves the weights only.
  for (const std::string& name : report.files) {
    const bool same = ReadAll(a.File(name)) == ReadAll(c.File(name));
    EXPECT_EQ(same, name != "model.safetensors") << name;
  }
}

TEST(MakeModelTest, ShardedOutputHasAValidIndexAndTheSameTensors) {
  testing::TempDir single, sharded;
  MakeModelOptions options = Options("tiny-qwen2", single.path());
  Make(options);
  options.out_dir = sharded.path();
  options.shards = 3;
  const MakeModelReport report = Make(options);
  EXPECT_THAT(report.files,
              ::testing::IsSupersetOf(
                  {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                   "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));
  EXPECT_FALSE(std::filesystem::exists(sharded.File("model.safetensors")));

  const Json index = Json::parse(ReadAll(sharded.File("model.safetensors.index.json")));
  uint64_t total = 0;
  std::set<std::string> files;
  for (const auto& [name, file] : index["weight_map"].items()) files.insert(file);
  EXPECT_EQ(files.size(), 3u);
  for (const std::string& file : files) ExpectOfficialLayout(sharded.File(file));

  absl::StatusOr<std::unique_ptr<Checkpoint>> a = Checkpoint::Open(single.path());
  absl::StatusOr<std::unique_ptr<Checkpoint>> b = Checkpoint::Open(sharded.path());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE((*b)->sharded());
  ASSERT_EQ((*a)->TensorNames(), (*b)->TensorNames());
  for (const std::string& name : (*a)->TensorNames()) {
    const TensorView x = *(*a)->Get(name);
    const TensorView y = *(*b)->Get(name);
    total += y.num_bytes;
    ASSERT_EQ(x.num_bytes, y.num_bytes);
    EXPECT_EQ(std::memcmp(x.data, y.data, x.num_bytes), 0) << name;
  }
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), total);

  // Regenerating unsharded into the sharded directory removes the shards and the index.
  options.shards = 1;
  Make(options);
  EXPECT_FALSE(std::filesystem::exists(sharded.File("model.safetensors.index.json")));
  EXPECT_FALSE(std::filesystem::exists(sharded.File("model-00001-of-00003.safetensors")));
  EXPECT_TRUE(Checkpoint::Open(sharded.path()).ok());
}

TEST(MakeModelTest, HalfPrecisionIsTheRoundedF32Checkpoint) {
  testing::TempDir f32, bf16, f16;
  MakeModelOptions options = Options("tiny-gpt2", f32.path());
  Make(options);
  options.spec.dtype = DType::kBF16;
  options.out_dir = bf16.path();
  Make(options);
  options.spec.dtype = DType::kF16;
  options.out_dir = f16.path();
  Make(options);
  EXPECT_NE(ReadAll(bf16.File("config.json")).find("\"torch_dtype\": \"bfloat16\""),
            std::string::npos);
  auto full = Checkpoint::Open(f32.path());
  auto brain = Checkpoint::Open(bf16.path());
  auto half = Checkpoint::Open(f16.path());
  ASSERT_TRUE(full.ok() && brain.ok() && half.ok());
  const TensorView x = *(*full)->Get("h.1.mlp.c_fc.weight");
  const TensorView y = *(*brain)->Get("h.1.mlp.c_fc.weight");
  const TensorView z = *(*half)->Get("h.1.mlp.c_fc.weight");
  EXPECT_EQ(y.dtype, DType::kBF16);
  EXPECT_EQ(z.dtype, DType::kF16);
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    float v;
    uint16_t b, h;
    std::memcpy(&v, static_cast<const char*>(x.data) + 4 * i, 4);
    std::memcpy(&b, static_cast<const char*>(y.data) + 2 * i, 2);
    std::memcpy(&h, static_cast<const char*>(z.data) + 2 * i, 2);
    ASSERT_EQ(b, FloatToBf16(v)) << i;
    ASSERT_EQ(h, FloatToHalf(v)) << i;
  }
}

TEST(MakeModelTest, WeightsHaveTheRequestedStatistics) {
  testing::TempDir dir;
  const MakeModelOptions options = Options("tiny-llama", dir.path());
  Make(options);
  auto checkpoint = Checkpoint::Open(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  const auto stats = [&](const std::string& name) {
    const TensorView view = *(*checkpoint)->Get(name);
    double sum = 0, sum_sq = 0;
    const int64_t n = view.NumElements();
    for (int64_t i = 0; i < n; ++i) {
      float v;
      std::memcpy(&v, static_cast<const char*>(view.data) + 4 * i, 4);
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    const double mean = sum / n;
    return std::make_pair(mean, std::sqrt(sum_sq / n - mean * mean));
  };
  const auto [embed_mean, embed_std] = stats("model.embed_tokens.weight");
  EXPECT_NEAR(embed_mean, 0.0, 0.01);
  EXPECT_NEAR(embed_std, options.spec.init_std, 0.05 * options.spec.init_std);
  const auto [norm_mean, norm_std] = stats("model.layers.0.input_layernorm.weight");
  EXPECT_NEAR(norm_mean, 1.0, 0.05);
  EXPECT_GT(norm_std, 0.0);
}

TEST(MakeModelTest, VariantsRoundTripThroughTheConfigLoader) {
  testing::TempDir llama3, linear, untied;
  MakeModelOptions options = Options("tiny-llama", llama3.path());
  options.spec.rope_scaling = RopeScalingKind::kLlama3;
  options.spec.rope_theta = 500000.0;
  Make(options);
  absl::StatusOr<ModelConfig> config = LoadModelConfig(llama3.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(config->rope_scaling.factor, 4.0);
  EXPECT_EQ(config->rope_scaling.original_max_position_embeddings, options.spec.max_positions / 4);
  EXPECT_DOUBLE_EQ(config->rope_theta, 500000.0);

  options.out_dir = linear.path();
  options.spec.rope_scaling = RopeScalingKind::kLinear;
  Make(options);
  config = LoadModelConfig(linear.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rope_scaling.type, RopeScalingType::kLinear);

  options = Options("tiny-gpt2", untied.path());
  options.spec.tie_word_embeddings = false;
  options.spec.intermediate_size = 100;
  Make(options);
  config = LoadModelConfig(untied.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->tie_word_embeddings);
  EXPECT_EQ(config->intermediate_size, 100);  // written as n_inner
  auto checkpoint = Checkpoint::Open(untied.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_TRUE((*checkpoint)->Contains("lm_head.weight"));
}

TEST(MakeModelTest, RejectsBadOptions) {
  testing::TempDir dir;
  MakeModelOptions options = Options("tiny-llama", dir.path());
  options.shards = 1000;
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("shards"));
  options = Options("tiny-llama", dir.path());
  options.spec.num_kv_heads = 3;
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("num_kv_heads"));
  options = Options("tiny-gpt2", dir.path());
  options.spec.vocab_size = 100;
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("too small"));
  EXPECT_THAT(std::string(PresetSpec("tiny-bert").status().message()), HasSubstr("tiny-llama"));
}

TEST(MakeModelTest, FullSizePresetsHaveThePublishedParameterCounts) {
  const auto count = [](const std::string& preset) {
    int64_t n = 0;
    for (const WeightSpec& w : CheckpointTensors(*PresetSpec(preset))) {
      int64_t e = 1;
      for (const int64_t d : w.shape) e *= d;
      n += e;
    }
    return n;
  };
  EXPECT_EQ(count("gpt2-124m"), 124439808);        // openai-community/gpt2
  EXPECT_EQ(count("tinyllama-1.1b"), 1100048384);  // TinyLlama-1.1B
}

TEST(MakeModelTest, SplitIntoShardsKeepsModelOrderAndFillsEveryShard) {
  std::vector<WeightSpec> tensors;
  for (int i = 0; i < 5; ++i) tensors.push_back({absl::StrCat("t", i), {i == 0 ? 100 : 1}});
  absl::StatusOr<std::vector<std::vector<WeightSpec>>> shards = SplitIntoShards(tensors, 4, 4);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 4u);
  std::vector<std::string> flat;
  for (const auto& shard : *shards) {
    EXPECT_FALSE(shard.empty());
    for (const WeightSpec& w : shard) flat.push_back(w.name);
  }
  EXPECT_THAT(flat, ElementsAre("t0", "t1", "t2", "t3", "t4"));
  EXPECT_EQ(ShardFileName(1, 4), "model-00002-of-00004.safetensors");
  EXPECT_FALSE(SplitIntoShards(tensors, 0, 4).ok());
  EXPECT_FALSE(SplitIntoShards(tensors, 6, 4).ok());
}

}  // namespace
}  // namespace ember::tools
