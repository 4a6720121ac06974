#include "tools/make_model/hf_config.h"

#include "nlohmann/json.hpp"

namespace ember::tools {
namespace {

using Json = nlohmann::json;  // std::map-backed: keys come out sorted, as sort_keys=True does

const char* TorchDtype(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "float32";
    case DType::kF16:
      return "float16";
    case DType::kBF16:
      return "bfloat16";
  }
  return "float32";
}

Json OptionalId(std::optional<int32_t> id) { return id.has_value() ? Json(*id) : Json(nullptr); }

Json RopeScaling(const ModelSpec& spec) {
  switch (spec.rope_scaling) {
    case RopeScalingKind::kNone:
      return nullptr;
    case RopeScalingKind::kLinear:
      return {{"factor", 2.0}, {"rope_type", "linear"}};
    case RopeScalingKind::kLlama3:
      // Llama 3.1 extends 8192 to 131072 positions (16x) with factor 8; here the pre-training
      // context is a quarter of max_positions, so the rescaling matters inside the tiny context.
      return {{"factor", 4.0},
              {"high_freq_factor", 4.0},
              {"low_freq_factor", 1.0},
              {"original_max_position_embeddings", spec.max_positions / 4},
              {"rope_type", "llama3"}};
  }
  return nullptr;
}

Json Gpt2Config(const ModelSpec& spec, const TrainedTokenizer& tokenizer) {
  Json c;
  c["activation_function"] = "gelu_new";
  c["architectures"] = {"GPT2LMHeadModel"};
  c["attn_pdrop"] = 0.1;
  c["bos_token_id"] = OptionalId(tokenizer.bos_id);
  c["embd_pdrop"] = 0.1;
  c["eos_token_id"] = OptionalId(tokenizer.eos_id);
  c["initializer_range"] = 0.02;
  c["layer_norm_epsilon"] = spec.norm_eps;
  c["model_type"] = "gpt2";
  c["n_ctx"] = spec.max_positions;
  c["n_embd"] = spec.hidden_size;
  c["n_head"] = spec.num_heads;
  c["n_inner"] =
      spec.intermediate_size == 4 * spec.hidden_size ? Json(nullptr) : Json(spec.intermediate_size);
  c["n_layer"] = spec.num_layers;
  c["n_positions"] = spec.max_positions;
  c["reorder_and_upcast_attn"] = false;
  c["resid_pdrop"] = 0.1;
  c["scale_attn_by_inverse_layer_idx"] = false;
  c["scale_attn_weights"] = true;
  c["summary_activation"] = nullptr;
  c["summary_first_dropout"] = 0.1;
  c["summary_proj_to_labels"] = true;
  c["summary_type"] = "cls_index";
  c["summary_use_proj"] = true;
  // save_pretrained omits values equal to PretrainedConfig's defaults; tying is on by default.
  if (!spec.tie_word_embeddings) c["tie_word_embeddings"] = false;
  return c;
}

Json LlamaFamilyConfig(const ModelSpec& spec, const TrainedTokenizer& tokenizer) {
  const bool qwen = spec.family == ModelFamily::kQwen2;
  Json c;
  c["architectures"] = {qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
  c["attention_dropout"] = 0.0;
  c["bos_token_id"] = OptionalId(tokenizer.bos_id);
  c["eos_token_id"] = OptionalId(tokenizer.eos_id);
  c["hidden_act"] = "silu";
  c["hidden_size"] = spec.hidden_size;
  c["initializer_range"] = 0.02;
  c["intermediate_size"] = spec.intermediate_size;
  c["max_position_embeddings"] = spec.max_positions;
  c["model_type"] = qwen ? "qwen2" : "llama";
  c["num_attention_heads"] = spec.num_heads;
  c["num_hidden_layers"] = spec.num_layers;
  c["num_key_value_heads"] = spec.num_kv_heads;
  c["rms_norm_eps"] = spec.norm_eps;
  c["rope_scaling"] = RopeScaling(spec);
  c["rope_theta"] = spec.rope_theta;
  c["tie_word_embeddings"] = spec.tie_word_embeddings;
  if (qwen) {
    c["max_window_layers"] = spec.num_layers;
    c["sliding_window"] = spec.max_positions;
    c["use_sliding_window"] = false;
  } else {
    c["attention_bias"] = false;
    c["head_dim"] = spec.head_dim();
    c["mlp_bias"] = false;
    c["pretraining_tp"] = 1;
  }
  return c;
}

// The keys MarianConfig and the generation defaults of opus-mt-en-de's config.json share.
void AddMarianGenerationKeys(const ModelSpec& spec, Json& c) {
  const int64_t pad = spec.vocab_size - 1;
  c["bad_words_ids"] = Json::array({Json::array({pad})});
  c["decoder_start_token_id"] = pad;
  c["eos_token_id"] = 0;
  c["forced_eos_token_id"] = 0;
  c["max_length"] = spec.max_positions;
  c["num_beams"] = 4;
  c["pad_token_id"] = pad;
}

}  // namespace

std::string MarianConfigJson(const ModelSpec& spec) {
  Json c;
  AddMarianGenerationKeys(spec, c);
  c["activation_dropout"] = 0.0;
  c["activation_function"] = spec.activation;
  c["architectures"] = {"MarianMTModel"};
  c["attention_dropout"] = 0.0;
  c["classifier_dropout"] = 0.0;
  c["d_model"] = spec.hidden_size;
  c["decoder_attention_heads"] = spec.num_heads;
  c["decoder_ffn_dim"] = spec.intermediate_size;
  c["decoder_layerdrop"] = 0.0;
  c["decoder_layers"] = spec.num_layers;
  c["decoder_vocab_size"] = spec.vocab_size;
  c["dropout"] = 0.1;
  c["encoder_attention_heads"] = spec.num_heads;
  c["encoder_ffn_dim"] = spec.intermediate_size;
  c["encoder_layerdrop"] = 0.0;
  c["encoder_layers"] = spec.encoder_layers;
  c["init_std"] = 0.02;
  c["is_encoder_decoder"] = true;
  c["max_position_embeddings"] = spec.max_positions;
  c["model_type"] = "marian";
  c["normalize_before"] = spec.normalize_before;
  c["normalize_embedding"] = false;
  c["num_hidden_layers"] = spec.encoder_layers;
  c["scale_embedding"] = spec.scale_embedding;
  c["share_encoder_decoder_embeddings"] = spec.share_encoder_decoder_embeddings;
  c["static_position_embeddings"] = true;
  c["tie_word_embeddings"] = spec.tie_word_embeddings;
  c["torch_dtype"] = TorchDtype(spec.dtype);
  c["transformers_version"] = kTransformersVersion;
  c["use_cache"] = true;
  c["vocab_size"] = spec.vocab_size;
  return c.dump(2) + "\n";
}

std::string MarianGenerationConfigJson(const ModelSpec& spec) {
  Json g;
  AddMarianGenerationKeys(spec, g);
  g["transformers_version"] = kTransformersVersion;
  return g.dump(2) + "\n";
}

std::string ConfigJson(const ModelSpec& spec, const TrainedTokenizer& tokenizer) {
  if (spec.family == ModelFamily::kMarian) return MarianConfigJson(spec);
  Json c = spec.family == ModelFamily::kGpt2 ? Gpt2Config(spec, tokenizer)
                                             : LlamaFamilyConfig(spec, tokenizer);
  c["torch_dtype"] = TorchDtype(spec.dtype);
  c["transformers_version"] = kTransformersVersion;
  c["use_cache"] = true;
  c["vocab_size"] = spec.vocab_size;
  return c.dump(2) + "\n";
}

std::string GenerationConfigJson(const ModelSpec& spec, const TrainedTokenizer& tokenizer) {
  Json g;
  switch (spec.family) {
    case ModelFamily::kGpt2:  // as openai-community/gpt2
      g["_from_model_config"] = true;
      g["bos_token_id"] = OptionalId(tokenizer.bos_id);
      g["eos_token_id"] = OptionalId(tokenizer.eos_id);
      break;
    case ModelFamily::kLlama:  // as TinyLlama-1.1B-Chat-v1.0
      g["bos_token_id"] = OptionalId(tokenizer.bos_id);
      g["eos_token_id"] = OptionalId(tokenizer.eos_id);
      g["max_length"] = spec.max_positions;
      g["pad_token_id"] = OptionalId(tokenizer.unk_id);
      break;
    case ModelFamily::kQwen2:  // as Qwen2-0.5B-Instruct: stops on <|im_end|> and <|endoftext|>
      g["bos_token_id"] = OptionalId(tokenizer.bos_id);
      g["do_sample"] = true;
      g["eos_token_id"] = {OptionalId(tokenizer.eos_id), OptionalId(tokenizer.pad_id)};
      g["pad_token_id"] = OptionalId(tokenizer.pad_id);
      g["repetition_penalty"] = 1.1;
      g["temperature"] = 0.7;
      g["top_k"] = 20;
      g["top_p"] = 0.8;
      break;
    case ModelFamily::kMarian:
      return MarianGenerationConfigJson(spec);
  }
  g["transformers_version"] = kTransformersVersion;
  return g.dump(2) + "\n";
}

}  // namespace ember::tools
