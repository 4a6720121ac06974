// config.json / generation_config.json parsing against real published configs (copied field for
// field from the Hugging Face hub) and against each class of bad input.
#include <string>

#include "absl/status/status.h"
#include "core/model/generation_config.h"
#include "core/model/model_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;

// openai-community/gpt2 config.json.
const char kGpt2[] = R"({
  "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
  "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
  "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": null,
  "summary_first_dropout": 0.1, "summary_proj_to_labels": true, "summary_type": "cls_index",
  "summary_use_proj": true,
  "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
  "vocab_size": 50257})";

// TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json.
const char kTinyLlama[] = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1,
  "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
  "intermediate_size": 5632, "max_position_embeddings": 2048, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 22, "num_key_value_heads": 4,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.35.0",
  "use_cache": true, "vocab_size": 32000})";

// meta-llama/Llama-3.1-8B-Instruct config.json.
const char kLlama31[] = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 128256})";

// mistralai/Mistral-7B-v0.1 config.json.
const char kMistral[] = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
  "use_cache": true, "vocab_size": 32000})";

// Qwen/Qwen2-0.5B-Instruct config.json.
const char kQwen2[] = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1", "use_cache": true, "use_sliding_window": false,
  "vocab_size": 151936})";

ModelConfig ParseOk(const std::string& text) {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(text, "test/config.json");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : ModelConfig();
}

// `base` with the keys of `patch` set; a null value erases the key (makes it absent).
std::string Patch(const char* base, const Json& patch) {
  Json json = Json::parse(base);
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      json.erase(key);
    } else {
      json[key] = value;
    }
  }
  return json.dump();
}

// Parses `text`, expects INVALID_ARGUMENT whose message starts with the file name and contains
// every one of `parts`.
void ExpectInvalid(const std::string& text, std::initializer_list<const char*> parts) {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(text, "test/config.json");
  ASSERT_FALSE(config.ok()) << "parsed: " << text;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  EXPECT_THAT(std::string(config.status().message()), StartsWith("test/config.json: "));
  for (const char* part : parts)
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(part));
}

TEST(ModelConfigTest, Gpt2) {
  const ModelConfig c = ParseOk(kGpt2);
  EXPECT_EQ(c.architecture, Architecture::kGpt2);
  EXPECT_EQ(c.model_type, "gpt2");
  EXPECT_EQ(c.vocab_size, 50257);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_layers, 12);
  EXPECT_EQ(c.num_heads, 12);
  EXPECT_EQ(c.num_kv_heads, 12);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.intermediate_size, 3072);  // n_inner absent: 4 * n_embd
  EXPECT_EQ(c.max_position_embeddings, 1024);
  EXPECT_EQ(c.max_context, 1024);
  EXPECT_FALSE(c.sliding_window.has_value());
  EXPECT_EQ(c.norm, NormKind::kLayerNorm);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
  EXPECT_EQ(c.activation, Activation::kGeluTanh);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kNone);
  EXPECT_TRUE(c.attention_qkv_bias);
  EXPECT_TRUE(c.attention_output_bias);
  EXPECT_TRUE(c.mlp_bias);
  EXPECT_TRUE(c.tie_word_embeddings);  // GPT2Config's default
  EXPECT_EQ(c.bos_token_id, 50256);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(50256));
  EXPECT_FALSE(c.pad_token_id.has_value());
  EXPECT_EQ(c.torch_dtype, "");
}

TEST(ModelConfigTest, Gpt2Variants) {
  const ModelConfig inner =
      ParseOk(Patch(kGpt2, {{"n_inner", 1000}, {"activation_function", "gelu"}}));
  EXPECT_EQ(inner.intermediate_size, 1000);
  EXPECT_EQ(inner.activation, Activation::kGeluErf);
  // Files saved by transformers write every GPT2Config key, n_inner as null.
  Json json = Json::parse(kGpt2);
  json["n_inner"] = nullptr;
  json["scale_attn_weights"] = true;
  json["scale_attn_by_inverse_layer_idx"] = false;
  json["reorder_and_upcast_attn"] = false;
  json["tie_word_embeddings"] = false;
  json.erase("n_positions");  // the legacy n_ctx stands in
  json["n_ctx"] = 256;
  const ModelConfig saved = ParseOk(json.dump());
  EXPECT_EQ(saved.intermediate_size, 3072);
  EXPECT_EQ(saved.max_position_embeddings, 256);
  EXPECT_FALSE(saved.tie_word_embeddings);
}

TEST(ModelConfigTest, TinyLlama) {
  const ModelConfig c = ParseOk(kTinyLlama);
  EXPECT_EQ(c.architecture, Architecture::kLlama);
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.num_layers, 22);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.intermediate_size, 5632);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.max_context, 2048);
  EXPECT_EQ(c.norm, NormKind::kRmsNorm);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
  EXPECT_EQ(c.activation, Activation::kSilu);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kNone);
  EXPECT_FALSE(c.attention_qkv_bias);
  EXPECT_FALSE(c.attention_output_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(2));
  EXPECT_EQ(c.torch_dtype, "bfloat16");
}

TEST(ModelConfigTest, LlamaDefaultsAndBiases) {
  // LlamaConfig defaults: kv heads = heads, eps 1e-6, theta 10000, bos 1, eos 2, untied.
  Json json = Json::parse(kTinyLlama);
  for (const char* key : {"num_key_value_heads", "rms_norm_eps", "rope_theta", "bos_token_id",
                          "eos_token_id", "tie_word_embeddings", "hidden_act", "rope_scaling"}) {
    json.erase(key);
  }
  json["attention_bias"] = true;
  json["mlp_bias"] = true;
  json["pad_token_id"] = nullptr;
  const ModelConfig c = ParseOk(json.dump());
  EXPECT_EQ(c.num_kv_heads, 32);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(2));
  EXPECT_FALSE(c.pad_token_id.has_value());
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_TRUE(c.attention_qkv_bias);
  EXPECT_TRUE(c.attention_output_bias);
  EXPECT_TRUE(c.mlp_bias);
  // An explicit null means "no such token", not the default.
  Json null_bos = Json::parse(kTinyLlama);
  null_bos["bos_token_id"] = nullptr;
  EXPECT_FALSE(ParseOk(null_bos.dump()).bos_token_id.has_value());
}

TEST(ModelConfigTest, Llama31RopeScalingAndEosList) {
  const ModelConfig c = ParseOk(kLlama31);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.max_context, 131072);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(128001, 128008, 128009));
}

TEST(ModelConfigTest, RopeScalingSpellings) {
  // Older files spell the key `type`.
  const ModelConfig linear =
      ParseOk(Patch(kTinyLlama, {{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}}));
  EXPECT_EQ(linear.rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(linear.rope_scaling.factor, 2.0);
  const ModelConfig plain =
      ParseOk(Patch(kTinyLlama, {{"rope_scaling", {{"rope_type", "default"}}}}));
  EXPECT_EQ(plain.rope_scaling.type, RopeScalingType::kNone);
  // transformers >= 5 moves rope_theta into rope_parameters.
  Json v5 = Json::parse(kTinyLlama);
  v5.erase("rope_scaling");
  v5.erase("rope_theta");
  v5["rope_parameters"] = {{"rope_theta", 250000.0}, {"rope_type", "default"}};
  EXPECT_DOUBLE_EQ(ParseOk(v5.dump()).rope_theta, 250000.0);
}

TEST(ModelConfigTest, MistralSlidingWindow) {
  const ModelConfig v01 = ParseOk(kMistral);
  EXPECT_EQ(v01.model_type, "mistral");
  EXPECT_EQ(v01.architecture, Architecture::kLlama);
  EXPECT_EQ(v01.sliding_window, 4096);
  EXPECT_EQ(v01.max_position_embeddings, 32768);
  EXPECT_EQ(v01.max_context, 4096);
  EXPECT_FALSE(v01.attention_qkv_bias);
  EXPECT_FALSE(v01.attention_output_bias);
  // Mistral-7B-v0.2 and later: no window.
  Json v02 = Json::parse(kMistral);
  v02["sliding_window"] = nullptr;
  v02["rope_theta"] = 1000000.0;
  const ModelConfig c = ParseOk(v02.dump());
  EXPECT_FALSE(c.sliding_window.has_value());
  EXPECT_EQ(c.max_context, 32768);
  // Absent: MistralConfig's default window of 4096.
  EXPECT_EQ(ParseOk(Patch(kMistral, {{"sliding_window", Json::value_t::null}})).sliding_window,
            4096);
}

TEST(ModelConfigTest, Qwen2) {
  const ModelConfig c = ParseOk(kQwen2);
  EXPECT_EQ(c.model_type, "qwen2");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_TRUE(c.attention_qkv_bias);
  EXPECT_FALSE(c.attention_output_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.sliding_window.has_value());  // use_sliding_window: false
  EXPECT_EQ(c.max_context, 32768);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_THAT(c.eos_token_ids, ElementsAre(151645));
  const ModelConfig windowed =
      ParseOk(Patch(kQwen2, {{"use_sliding_window", true}, {"sliding_window", 4096}}));
  EXPECT_EQ(windowed.sliding_window, 4096);
  EXPECT_EQ(windowed.max_context, 4096);
  // Qwen2Config has no default bos/eos.
  Json bare = Json::parse(kQwen2);
  bare.erase("bos_token_id");
  bare.erase("eos_token_id");
  const ModelConfig no_ids = ParseOk(bare.dump());
  EXPECT_FALSE(no_ids.bos_token_id.has_value());
  EXPECT_TRUE(no_ids.eos_token_ids.empty());
}

TEST(ModelConfigTest, ExplicitHeadDim) {
  // Mistral-Nemo: 32 heads of 128 over a 5120-wide residual stream.
  const ModelConfig c = ParseOk(
      Patch(kMistral, {{"hidden_size", 5120}, {"head_dim", 128}, {"sliding_window", nullptr}}));
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.hidden_size, 5120);
}

TEST(ModelConfigTest, RejectsUnsupportedModelTypes) {
  ExpectInvalid(Patch(kTinyLlama, {{"model_type", "bert"}}),
                {"'model_type'", "\"bert\"", "gpt2, llama, mistral, qwen2"});
  ExpectInvalid(Patch(kTinyLlama, {{"model_type", nullptr}}),
                {"'model_type'", "required", "gpt2, llama, mistral, qwen2"});
  ExpectInvalid(Patch(kTinyLlama, {{"model_type", 3}}), {"'model_type'", "must be a string"});
}

TEST(ModelConfigTest, RejectsMissingAndMistypedFields) {
  ExpectInvalid(Patch(kTinyLlama, {{"hidden_size", nullptr}}), {"'hidden_size'", "required"});
  ExpectInvalid(Patch(kGpt2, {{"n_embd", nullptr}}), {"'n_embd'", "required"});
  ExpectInvalid(Patch(kTinyLlama, {{"intermediate_size", nullptr}}),
                {"'intermediate_size'", "required"});
  ExpectInvalid(Patch(kTinyLlama, {{"hidden_size", "2048"}}),
                {"'hidden_size'", "must be an integer", "string \"2048\""});
  ExpectInvalid(Patch(kTinyLlama, {{"hidden_size", 2048.0}}),
                {"'hidden_size'", "must be an integer"});
  ExpectInvalid(Patch(kTinyLlama, {{"rms_norm_eps", "1e-5"}}), {"'rms_norm_eps'", "a number"});
  ExpectInvalid(Patch(kTinyLlama, {{"tie_word_embeddings", 0}}),
                {"'tie_word_embeddings'", "true or false"});
  ExpectInvalid(Patch(kLlama31, {{"eos_token_id", {128001, "x"}}}),
                {"'eos_token_id'", "element 1"});
  ExpectInvalid(Patch(kTinyLlama, {{"rope_scaling", 8}}), {"'rope_scaling'", "an object"});
}

TEST(ModelConfigTest, RejectsBadSizes) {
  ExpectInvalid(Patch(kTinyLlama, {{"vocab_size", 0}}), {"'vocab_size'", "positive"});
  ExpectInvalid(Patch(kTinyLlama, {{"num_hidden_layers", -2}}),
                {"'num_hidden_layers'", "positive"});
  ExpectInvalid(Patch(kTinyLlama, {{"num_key_value_heads", 0}}),
                {"'num_key_value_heads'", "positive"});
  ExpectInvalid(Patch(kTinyLlama, {{"num_attention_heads", 30}}),
                {"'num_attention_heads'", "(30) must divide the hidden size (2048)"});
  ExpectInvalid(Patch(kTinyLlama, {{"num_key_value_heads", 5}}),
                {"'num_key_value_heads'", "(5) must divide the number of attention heads (32)"});
  ExpectInvalid(Patch(kGpt2, {{"n_head", 10}}), {"'n_head'", "must divide"});
  ExpectInvalid(Patch(kTinyLlama, {{"head_dim", 63}}), {"'head_dim'", "odd"});
  ExpectInvalid(Patch(kMistral, {{"sliding_window", 0}}), {"'sliding_window'", "positive"});
  ExpectInvalid(Patch(kTinyLlama, {{"rms_norm_eps", 0}}), {"'rms_norm_eps'", "positive"});
  ExpectInvalid(Patch(kTinyLlama, {{"eos_token_id", 32000}}),
                {"'eos_token_id'", "32000", "[0, 32000)"});
  ExpectInvalid(Patch(kTinyLlama, {{"bos_token_id", -1}}), {"'bos_token_id'", "-1"});
}

TEST(ModelConfigTest, RejectsUnsupportedVariants) {
  ExpectInvalid(Patch(kTinyLlama, {{"hidden_act", "gelu_fast"}}),
                {"'hidden_act'", "\"gelu_fast\"", "silu"});
  ExpectInvalid(Patch(kGpt2, {{"activation_function", "tanh"}}),
                {"'activation_function'", "\"tanh\""});
  ExpectInvalid(Patch(kTinyLlama, {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}}),
                {"'rope_scaling.rope_type'", "\"yarn\"", "llama3"});
  ExpectInvalid(Patch(kTinyLlama, {{"rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}}}}),
                {"'rope_scaling.type'", "\"dynamic\""});
  ExpectInvalid(Patch(kTinyLlama, {{"rope_scaling", {{"factor", 2.0}}}}),
                {"'rope_scaling.rope_type'", "required"});
  ExpectInvalid(Patch(kTinyLlama, {{"rope_scaling", {{"type", "linear"}, {"factor", 0.5}}}}),
                {"'rope_scaling.factor'", ">= 1"});
  Json llama3 = Json::parse(kLlama31);
  llama3["rope_scaling"].erase("original_max_position_embeddings");
  ExpectInvalid(llama3.dump(), {"'rope_scaling.original_max_position_embeddings'", "required"});
  llama3 = Json::parse(kLlama31);
  llama3["rope_scaling"]["high_freq_factor"] = 0.5;
  ExpectInvalid(llama3.dump(), {"'rope_scaling.high_freq_factor'", "greater than"});
  ExpectInvalid(Patch(kGpt2, {{"scale_attn_weights", false}}), {"'scale_attn_weights'"});
  ExpectInvalid(Patch(kGpt2, {{"scale_attn_by_inverse_layer_idx", true}}),
                {"'scale_attn_by_inverse_layer_idx'", "is true"});
  ExpectInvalid(Patch(kGpt2, {{"reorder_and_upcast_attn", true}}),
                {"'reorder_and_upcast_attn'", "is true"});
  ExpectInvalid(Patch(kGpt2, {{"add_cross_attention", true}}), {"'add_cross_attention'"});
  ExpectInvalid(Patch(kTinyLlama, {{"torch_dtype", "int8"}}), {"'torch_dtype'", "\"int8\""});
}

TEST(ModelConfigTest, RejectsMalformedJson) {
  ExpectInvalid("{\"model_type\": \"llama\",", {"invalid JSON"});
  ExpectInvalid("[1, 2]", {"JSON object"});
  ExpectInvalid(R"({"model_type": "llama", "model_type": "gpt2"})", {"duplicate key"});
}

TEST(ModelConfigTest, LoadFromDirectory) {
  testing::TempDir dir;
  dir.Write("config.json", kTinyLlama);
  absl::StatusOr<ModelConfig> config = LoadModelConfig(dir.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hidden_size, 2048);

  testing::TempDir empty;
  const absl::Status missing = LoadModelConfig(empty.path()).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("config.json"));

  testing::TempDir bad;
  bad.Write("config.json", Patch(kTinyLlama, {{"num_key_value_heads", 3}}));
  const absl::Status invalid = LoadModelConfig(bad.path()).status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(invalid.message()), StartsWith(bad.File("config.json")));
}

// generation_config.json ---------------------------------------------------------------------

TEST(GenerationConfigTest, ParsesEveryField) {
  absl::StatusOr<GenerationConfig> g = ParseGenerationConfig(R"({
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "pad_token_id": 0,
    "decoder_start_token_id": 5, "max_length": 4096, "max_new_tokens": 64, "do_sample": true,
    "temperature": 0.6, "top_k": 40, "top_p": 0.9, "min_p": 0.05, "repetition_penalty": 1.1,
    "transformers_version": "4.42.3", "_from_model_config": false})",
                                                             "gen.json");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->bos_token_id, 128000);
  EXPECT_THAT(*g->eos_token_ids, ElementsAre(128001, 128008, 128009));
  EXPECT_EQ(g->pad_token_id, 0);
  EXPECT_EQ(g->decoder_start_token_id, 5);
  EXPECT_EQ(g->max_length, 4096);
  EXPECT_EQ(g->max_new_tokens, 64);
  EXPECT_EQ(g->do_sample, true);
  EXPECT_DOUBLE_EQ(*g->temperature, 0.6);
  EXPECT_EQ(g->top_k, 40);
  EXPECT_DOUBLE_EQ(*g->top_p, 0.9);
  EXPECT_DOUBLE_EQ(*g->min_p, 0.05);
  EXPECT_DOUBLE_EQ(*g->repetition_penalty, 1.1);
}

TEST(GenerationConfigTest, SparseFile) {
  // TinyLlama's generation_config.json; temperature given as a JSON integer.
  absl::StatusOr<GenerationConfig> g = ParseGenerationConfig(
      R"({"bos_token_id": 1, "eos_token_id": 2, "max_length": 2048, "pad_token_id": 0,
          "temperature": 1, "top_p": null})",
      "gen.json");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(*g->eos_token_ids, ElementsAre(2));
  EXPECT_DOUBLE_EQ(*g->temperature, 1.0);
  EXPECT_FALSE(g->top_p.has_value());
  EXPECT_FALSE(g->do_sample.has_value());
  EXPECT_FALSE(g->max_new_tokens.has_value());
}

TEST(GenerationConfigTest, RejectsBadValues) {
  const auto expect_invalid = [](const char* text, const char* field) {
    absl::StatusOr<GenerationConfig> g = ParseGenerationConfig(text, "gen.json");
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(g.status().message()), StartsWith("gen.json: "));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr(field));
  };
  expect_invalid(R"({"top_p": 0})", "'top_p'");
  expect_invalid(R"({"top_p": 1.5})", "'top_p'");
  expect_invalid(R"({"temperature": -1})", "'temperature'");
  expect_invalid(R"({"top_k": -1})", "'top_k'");
  expect_invalid(R"({"min_p": 2})", "'min_p'");
  expect_invalid(R"({"repetition_penalty": 0})", "'repetition_penalty'");
  expect_invalid(R"({"max_new_tokens": 0})", "'max_new_tokens'");
  expect_invalid(R"({"do_sample": "yes"})", "'do_sample'");
  expect_invalid(R"({"eos_token_id": [-1]})", "'eos_token_id'");
  expect_invalid(R"({"eos_token_id": "2"})", "'eos_token_id'");
  expect_invalid(R"({"max_length": 2048,})", "invalid JSON");
}

TEST(GenerationConfigTest, LoadMissingFileGivesDefaults) {
  testing::TempDir dir;
  absl::StatusOr<GenerationConfig> g = LoadGenerationConfig(dir.path());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_FALSE(g->eos_token_ids.has_value());
  EXPECT_FALSE(g->temperature.has_value());
  dir.Write("generation_config.json", "{\"top_k\": 1.5}");
  const absl::Status bad = LoadGenerationConfig(dir.path()).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("generation_config.json: field 'top_k'"));
}

TEST(GenerationConfigTest, ResolveEosTokenIds) {
  const ModelConfig model = ParseOk(kLlama31);
  GenerationConfig generation;
  EXPECT_THAT(ResolveEosTokenIds(model, generation), ElementsAre(128001, 128008, 128009));
  generation.eos_token_ids = std::vector<int32_t>{128009, 128001, 128009};
  EXPECT_THAT(ResolveEosTokenIds(model, generation), ElementsAre(128009, 128001));
  // Qwen2-Instruct: config.json says <|im_end|>; generation_config.json adds <|endoftext|>.
  const ModelConfig qwen = ParseOk(kQwen2);
  generation.eos_token_ids = std::vector<int32_t>{151645, 151643};
  EXPECT_THAT(ResolveEosTokenIds(qwen, generation), ElementsAre(151645, 151643));
}

}  // namespace
}  // namespace ember
