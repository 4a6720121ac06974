#include "core/model/model_config.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/config_fields.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

constexpr absl::string_view kSupportedModelTypes = "gpt2, llama, mistral, qwen2, marian";
constexpr absl::string_view kSupportedActivations =
    "gelu_new, gelu_pytorch_tanh, gelu, silu, swish, relu";

// config.json files are small; this bounds what a hostile or misnamed file can make us read.
constexpr size_t kMaxConfigBytes = size_t{16} << 20;

absl::StatusOr<Activation> ParseActivation(const ConfigFields& fields, absl::string_view key,
                                           absl::string_view default_name) {
  ASSIGN_OR_RETURN(const std::optional<std::string> given, fields.String(key));
  const std::string name = given.value_or(std::string(default_name));
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "relu") return Activation::kRelu;
  return fields.Error(key, absl::StrCat("is \"", name, "\", which ember does not implement (",
                                        "supported: ", kSupportedActivations, ")"));
}

// A required size: present, an integer, > 0.
absl::StatusOr<int64_t> RequiredSize(const ConfigFields& fields, absl::string_view key) {
  ASSIGN_OR_RETURN(const int64_t value, fields.RequiredInt(key));
  if (value <= 0) return fields.Error(key, absl::StrCat("must be positive, got ", value));
  return value;
}

// A required position count (max_position_embeddings, n_positions). Positions are int32 in the
// forward pass, so a longer context cannot be indexed; refusing it here also stops a hostile value
// from sizing position tables.
absl::StatusOr<int64_t> PositionCount(const ConfigFields& fields, absl::string_view key) {
  ASSIGN_OR_RETURN(const int64_t value, RequiredSize(fields, key));
  constexpr int64_t kMaxPositions = std::numeric_limits<int32_t>::max();
  if (value > kMaxPositions) {
    return fields.Error(
        key, absl::StrCat("is ", value, ", more positions than ember can index (at most ",
                          kMaxPositions, ")"));
  }
  return value;
}

// The required vocab_size. Token ids are int32 throughout ember (tokenizer, sampler, API), so a
// larger vocabulary could not be addressed, and its special token ids would be truncated.
absl::StatusOr<int64_t> VocabSize(const ConfigFields& fields) {
  ASSIGN_OR_RETURN(const int64_t value, RequiredSize(fields, "vocab_size"));
  constexpr int64_t kMaxVocab = std::numeric_limits<int32_t>::max();
  if (value > kMaxVocab) {
    return fields.Error("vocab_size", absl::StrCat("is ", value, ", more tokens than ember can ",
                                                   "index (at most ", kMaxVocab, ")"));
  }
  return value;
}

// A number that must be > 0 when present; `fallback` when absent or null.
absl::StatusOr<double> PositiveNumber(const ConfigFields& fields, absl::string_view key,
                                      double fallback) {
  ASSIGN_OR_RETURN(const std::optional<double> value, fields.Number(key));
  if (!value.has_value()) return fallback;
  if (!(*value > 0)) return fields.Error(key, absl::StrCat("must be positive, got ", *value));
  return *value;
}

// A boolean that must equal `required` when present: the key names a variant ember does not
// implement.
absl::Status RequireBool(const ConfigFields& fields, absl::string_view key, bool required,
                         absl::string_view why) {
  ASSIGN_OR_RETURN(const std::optional<bool> value, fields.Bool(key));
  if (value.has_value() && *value != required) {
    return fields.Error(key, absl::StrCat("is ", *value ? "true" : "false", ", but ember ", why));
  }
  return absl::OkStatus();
}

// rope_scaling (or, in transformers >= 5 files, rope_parameters). Semantics and checks follow
// transformers' rope_config_validation: llama3 needs all four keys, factor >= 1.
absl::Status ParseRopeScaling(const ConfigFields& fields, ModelConfig& config) {
  const char* key = "rope_scaling";
  ASSIGN_OR_RETURN(const nlohmann::json* object, fields.Object(key));
  if (object == nullptr) {
    key = "rope_parameters";
    ASSIGN_OR_RETURN(object, fields.Object(key));
    if (object == nullptr) return absl::OkStatus();
  }
  const ConfigFields rope(*object, fields.source_name(), absl::StrCat(key, "."));
  if (rope.Has("rope_theta")) {
    ASSIGN_OR_RETURN(config.rope_theta, PositiveNumber(rope, "rope_theta", config.rope_theta));
  }
  // transformers reads `rope_type` and falls back to the older spelling `type`.
  const char* type_key = rope.Has("rope_type") ? "rope_type" : "type";
  ASSIGN_OR_RETURN(const std::optional<std::string> type, rope.String(type_key));
  if (!type.has_value()) return rope.Error("rope_type", "is required but missing");
  RopeScaling& scaling = config.rope_scaling;
  if (*type == "default") {
    scaling = RopeScaling();
    return absl::OkStatus();
  }
  if (*type != "linear" && *type != "llama3") {
    return rope.Error(type_key, absl::StrCat("is \"", *type,
                                             "\", which ember does not implement (supported: "
                                             "default, linear, llama3)"));
  }
  ASSIGN_OR_RETURN(const std::optional<double> factor, rope.Number("factor"));
  if (!factor.has_value()) return rope.Error("factor", "is required but missing");
  if (!(*factor >= 1.0)) return rope.Error("factor", absl::StrCat("must be >= 1, got ", *factor));
  scaling.factor = *factor;
  if (*type == "linear") {
    scaling.type = RopeScalingType::kLinear;
    return absl::OkStatus();
  }
  scaling.type = RopeScalingType::kLlama3;
  for (const char* required : {"low_freq_factor", "high_freq_factor"}) {
    if (!rope.Has(required)) return rope.Error(required, "is required but missing");
  }
  ASSIGN_OR_RETURN(scaling.low_freq_factor, PositiveNumber(rope, "low_freq_factor", 0));
  ASSIGN_OR_RETURN(scaling.high_freq_factor, PositiveNumber(rope, "high_freq_factor", 0));
  if (!(scaling.high_freq_factor > scaling.low_freq_factor)) {
    return rope.Error("high_freq_factor",
                      absl::StrCat("must be greater than low_freq_factor (",
                                   scaling.low_freq_factor, "), got ", scaling.high_freq_factor));
  }
  ASSIGN_OR_RETURN(scaling.original_max_position_embeddings,
                   RequiredSize(rope, "original_max_position_embeddings"));
  return absl::OkStatus();
}

// A config class default id, kept only when it is inside this model's vocabulary: a small model
// whose file omits the ids would otherwise get, say, GPT-2's 50256, an id with no embedding row.
std::optional<int32_t> DefaultTokenId(std::optional<int32_t> id, int64_t vocab) {
  if (id.has_value() && *id >= vocab) return std::nullopt;
  return id;
}

// One token id field: absent -> the config class default (if inside the vocabulary); null -> none.
absl::StatusOr<std::optional<int32_t>> TokenId(const ConfigFields& fields, absl::string_view key,
                                               std::optional<int32_t> fallback, int64_t vocab) {
  if (!fields.Contains(key)) return DefaultTokenId(fallback, vocab);
  ASSIGN_OR_RETURN(const std::optional<int64_t> id, fields.Int(key));
  if (!id.has_value()) return std::nullopt;
  if (*id < 0 || *id >= vocab) {
    return fields.Error(key, absl::StrCat("is ", *id, ", outside the vocabulary [0, ", vocab, ")"));
  }
  return static_cast<int32_t>(*id);
}

absl::Status ParseTokenIds(const ConfigFields& fields, std::optional<int32_t> default_bos,
                           std::optional<int32_t> default_eos, ModelConfig& config) {
  const int64_t vocab = config.vocab_size;
  ASSIGN_OR_RETURN(config.bos_token_id, TokenId(fields, "bos_token_id", default_bos, vocab));
  ASSIGN_OR_RETURN(config.pad_token_id, TokenId(fields, "pad_token_id", std::nullopt, vocab));
  config.eos_token_ids.clear();
  if (!fields.Contains("eos_token_id")) {
    if (const auto eos = DefaultTokenId(default_eos, vocab)) config.eos_token_ids.push_back(*eos);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const std::optional<std::vector<int64_t>> eos,
                   fields.IntOrIntList("eos_token_id"));
  for (const int64_t id : eos.value_or(std::vector<int64_t>())) {
    if (id < 0 || id >= vocab) {
      return fields.Error(
          "eos_token_id",
          absl::StrCat("contains ", id, ", outside the vocabulary [0, ", vocab, ")"));
    }
    config.eos_token_ids.push_back(static_cast<int32_t>(id));
  }
  return absl::OkStatus();
}

absl::Status ParseTorchDtype(const ConfigFields& fields, ModelConfig& config) {
  // transformers >= 5 writes `dtype`; older versions `torch_dtype`.
  const char* key = fields.Has("torch_dtype") ? "torch_dtype" : "dtype";
  ASSIGN_OR_RETURN(const std::optional<std::string> dtype, fields.String(key));
  if (!dtype.has_value()) return absl::OkStatus();
  if (*dtype != "float32" && *dtype != "float16" && *dtype != "bfloat16") {
    return fields.Error(
        key, absl::StrCat("is \"", *dtype, "\"; ember loads float32, float16 and bfloat16"));
  }
  config.torch_dtype = *dtype;
  return absl::OkStatus();
}

// head_dim from an explicit key or hidden / heads, and the GQA grouping.
absl::Status ResolveHeads(const ConfigFields& fields, absl::string_view heads_key,
                          std::optional<int64_t> explicit_head_dim, ModelConfig& config) {
  if (explicit_head_dim.has_value()) {
    config.head_dim = *explicit_head_dim;
  } else if (config.hidden_size % config.num_heads != 0) {
    return fields.Error(heads_key,
                        absl::StrCat("(", config.num_heads, ") must divide the hidden size (",
                                     config.hidden_size, ")"));
  } else {
    config.head_dim = config.hidden_size / config.num_heads;
  }
  if (config.num_heads % config.num_kv_heads != 0) {
    return fields.Error(
        "num_key_value_heads",
        absl::StrCat("(", config.num_kv_heads, ") must divide the number of attention heads (",
                     config.num_heads, ")"));
  }
  return absl::OkStatus();
}

absl::Status ParseGpt2(const ConfigFields& fields, ModelConfig& config) {
  config.architecture = Architecture::kGpt2;
  ASSIGN_OR_RETURN(config.vocab_size, VocabSize(fields));
  ASSIGN_OR_RETURN(config.hidden_size, RequiredSize(fields, "n_embd"));
  ASSIGN_OR_RETURN(config.num_layers, RequiredSize(fields, "n_layer"));
  ASSIGN_OR_RETURN(config.num_heads, RequiredSize(fields, "n_head"));
  config.num_kv_heads = config.num_heads;
  // GPT2Config reads only n_positions; n_ctx is its legacy twin, used when n_positions is absent.
  const char* positions_key =
      fields.Has("n_positions") || !fields.Has("n_ctx") ? "n_positions" : "n_ctx";
  ASSIGN_OR_RETURN(config.max_position_embeddings, PositionCount(fields, positions_key));
  config.max_context = config.max_position_embeddings;
  ASSIGN_OR_RETURN(const std::optional<int64_t> inner, fields.PositiveInt("n_inner"));
  if (!inner.has_value() && config.hidden_size > std::numeric_limits<int64_t>::max() / 4) {
    return fields.Error("n_embd", absl::StrCat("is ", config.hidden_size,
                                               ", too large for the default n_inner (4 * n_embd)"));
  }
  config.intermediate_size = inner.value_or(4 * config.hidden_size);
  RETURN_IF_ERROR(ResolveHeads(fields, "n_head", std::nullopt, config));

  config.norm = NormKind::kLayerNorm;
  ASSIGN_OR_RETURN(config.norm_eps, PositiveNumber(fields, "layer_norm_epsilon", 1e-5));
  ASSIGN_OR_RETURN(config.activation, ParseActivation(fields, "activation_function", "gelu_new"));
  RETURN_IF_ERROR(RequireBool(fields, "scale_attn_weights", true,
                              "always scales attention scores by 1/sqrt(head_dim)"));
  RETURN_IF_ERROR(RequireBool(fields, "scale_attn_by_inverse_layer_idx", false,
                              "does not implement per-layer attention scaling"));
  RETURN_IF_ERROR(RequireBool(fields, "reorder_and_upcast_attn", false,
                              "does not implement the reordered attention variant"));
  RETURN_IF_ERROR(
      RequireBool(fields, "add_cross_attention", false, "serves GPT-2 as a decoder-only model"));
  config.attention_qkv_bias = true;
  config.attention_output_bias = true;
  config.mlp_bias = true;
  ASSIGN_OR_RETURN(const std::optional<bool> tie, fields.Bool("tie_word_embeddings"));
  config.tie_word_embeddings = tie.value_or(true);
  return ParseTokenIds(fields, 50256, 50256, config);
}

// The sliding window, when one is active: mistral's `sliding_window` (MistralConfig's default
// 4096 when absent, none when null); qwen2's only with `use_sliding_window: true`.
absl::Status ParseSlidingWindow(const ConfigFields& fields, ModelConfig& config) {
  std::optional<int64_t> window;
  if (config.model_type == "mistral") {
    if (!fields.Contains("sliding_window")) {
      window = 4096;
    } else {
      ASSIGN_OR_RETURN(window, fields.PositiveInt("sliding_window"));
    }
  } else if (config.model_type == "qwen2") {
    ASSIGN_OR_RETURN(const std::optional<bool> use, fields.Bool("use_sliding_window"));
    if (use.value_or(false)) {
      if (!fields.Contains("sliding_window")) {
        window = 4096;  // Qwen2Config's default
      } else {
        ASSIGN_OR_RETURN(window, fields.PositiveInt("sliding_window"));
      }
    }
  }
  config.sliding_window = window;
  config.max_context = config.max_position_embeddings;
  // A sequence no longer than the window attends to every earlier token under both full and
  // sliding-window attention, so capping the context makes full causal attention exact.
  if (window.has_value()) config.max_context = std::min(config.max_context, *window);
  return absl::OkStatus();
}

absl::Status ParseLlamaFamily(const ConfigFields& fields, ModelConfig& config) {
  config.architecture = Architecture::kLlama;
  const std::string& type = config.model_type;
  ASSIGN_OR_RETURN(config.vocab_size, VocabSize(fields));
  ASSIGN_OR_RETURN(config.hidden_size, RequiredSize(fields, "hidden_size"));
  ASSIGN_OR_RETURN(config.intermediate_size, RequiredSize(fields, "intermediate_size"));
  ASSIGN_OR_RETURN(config.num_layers, RequiredSize(fields, "num_hidden_layers"));
  ASSIGN_OR_RETURN(config.num_heads, RequiredSize(fields, "num_attention_heads"));
  ASSIGN_OR_RETURN(config.max_position_embeddings,
                   PositionCount(fields, "max_position_embeddings"));
  ASSIGN_OR_RETURN(const std::optional<int64_t> kv_heads,
                   fields.PositiveInt("num_key_value_heads"));
  config.num_kv_heads = kv_heads.value_or(config.num_heads);
  ASSIGN_OR_RETURN(const std::optional<int64_t> head_dim, fields.PositiveInt("head_dim"));
  RETURN_IF_ERROR(ResolveHeads(fields, "num_attention_heads", head_dim, config));
  if (config.head_dim % 2 != 0) {
    return fields.Error(head_dim.has_value() ? "head_dim" : "num_attention_heads",
                        absl::StrCat("gives an odd head_dim (", config.head_dim,
                                     "); rotary embeddings rotate pairs of dimensions"));
  }
  RETURN_IF_ERROR(ParseSlidingWindow(fields, config));

  config.norm = NormKind::kRmsNorm;
  ASSIGN_OR_RETURN(config.norm_eps, PositiveNumber(fields, "rms_norm_eps", 1e-6));
  ASSIGN_OR_RETURN(config.activation, ParseActivation(fields, "hidden_act", "silu"));
  ASSIGN_OR_RETURN(config.rope_theta, PositiveNumber(fields, "rope_theta", 10000.0));
  RETURN_IF_ERROR(ParseRopeScaling(fields, config));

  if (type == "llama") {
    // LlamaAttention gives q, k, v and o the same `attention_bias`; LlamaMLP gives gate, up and
    // down `mlp_bias`.
    ASSIGN_OR_RETURN(const std::optional<bool> attention_bias, fields.Bool("attention_bias"));
    ASSIGN_OR_RETURN(const std::optional<bool> mlp_bias, fields.Bool("mlp_bias"));
    config.attention_qkv_bias = attention_bias.value_or(false);
    config.attention_output_bias = config.attention_qkv_bias;
    config.mlp_bias = mlp_bias.value_or(false);
  } else {
    // Qwen2Attention hard-codes bias=True on q, k, v and False on o; Mistral has no biases. Their
    // config classes have no bias keys, so transformers ignores any in the file; so do we.
    config.attention_qkv_bias = type == "qwen2";
    config.attention_output_bias = false;
    config.mlp_bias = false;
  }
  ASSIGN_OR_RETURN(const std::optional<bool> tie, fields.Bool("tie_word_embeddings"));
  config.tie_word_embeddings = tie.value_or(false);
  if (type == "qwen2") return ParseTokenIds(fields, std::nullopt, std::nullopt, config);
  return ParseTokenIds(fields, 1, 2, config);
}

// MarianConfig (transformers' configuration_marian.py): post-LN encoder and decoder of d_model
// width, sinusoidal positions, biases everywhere, LayerNorm eps 1e-5 (nn.LayerNorm's default).
absl::Status ParseMarian(const ConfigFields& fields, ModelConfig& config) {
  config.architecture = Architecture::kMarian;
  ASSIGN_OR_RETURN(config.vocab_size, VocabSize(fields));
  ASSIGN_OR_RETURN(const std::optional<int64_t> decoder_vocab,
                   fields.PositiveInt("decoder_vocab_size"));
  if (decoder_vocab.has_value() && *decoder_vocab != config.vocab_size) {
    return fields.Error(
        "decoder_vocab_size",
        absl::StrCat("is ", *decoder_vocab, " but vocab_size is ", config.vocab_size,
                     "; ember serves Marian models whose two ", "vocabularies have the same size"));
  }
  ASSIGN_OR_RETURN(config.hidden_size, RequiredSize(fields, "d_model"));
  ASSIGN_OR_RETURN(config.num_layers, RequiredSize(fields, "decoder_layers"));
  ASSIGN_OR_RETURN(config.num_heads, RequiredSize(fields, "decoder_attention_heads"));
  ASSIGN_OR_RETURN(config.intermediate_size, RequiredSize(fields, "decoder_ffn_dim"));
  config.num_kv_heads = config.num_heads;
  RETURN_IF_ERROR(ResolveHeads(fields, "decoder_attention_heads", std::nullopt, config));
  ASSIGN_OR_RETURN(config.max_position_embeddings,
                   PositionCount(fields, "max_position_embeddings"));
  config.max_context = config.max_position_embeddings;
  EncoderDecoderConfig ed;
  ASSIGN_OR_RETURN(ed.encoder_layers, RequiredSize(fields, "encoder_layers"));
  ASSIGN_OR_RETURN(ed.encoder_heads, RequiredSize(fields, "encoder_attention_heads"));
  ASSIGN_OR_RETURN(ed.encoder_ffn_dim, RequiredSize(fields, "encoder_ffn_dim"));
  if (config.hidden_size % ed.encoder_heads != 0) {
    return fields.Error(
        "encoder_attention_heads",
        absl::StrCat("(", ed.encoder_heads, ") must divide d_model (", config.hidden_size, ")"));
  }
  config.norm = NormKind::kLayerNorm;
  config.norm_eps = 1e-5;
  ASSIGN_OR_RETURN(config.activation, ParseActivation(fields, "activation_function", "gelu"));
  config.attention_qkv_bias = config.attention_output_bias = config.mlp_bias = true;
  ASSIGN_OR_RETURN(const std::optional<bool> scale, fields.Bool("scale_embedding"));
  ed.scale_embedding = scale.value_or(false);
  ASSIGN_OR_RETURN(const std::optional<bool> pre_ln, fields.Bool("normalize_before"));
  ed.normalize_before = pre_ln.value_or(false);
  ASSIGN_OR_RETURN(const std::optional<bool> share,
                   fields.Bool("share_encoder_decoder_embeddings"));
  ed.share_embeddings = share.value_or(true);
  ASSIGN_OR_RETURN(const std::optional<bool> tie, fields.Bool("tie_word_embeddings"));
  config.tie_word_embeddings = tie.value_or(true);
  RETURN_IF_ERROR(
      RequireBool(fields, "add_bias_logits", false, "adds only final_logits_bias to the logits"));
  RETURN_IF_ERROR(RequireBool(fields, "normalize_embedding", false,
                              "does not implement a norm over the embeddings (not Marian)"));
  RETURN_IF_ERROR(RequireBool(fields, "static_position_embeddings", true,
                              "implements Marian's fixed sinusoidal positions only"));
  const int32_t pad = static_cast<int32_t>(config.vocab_size - 1);
  RETURN_IF_ERROR(ParseTokenIds(fields, std::nullopt, 0, config));
  if (!fields.Contains("pad_token_id")) config.pad_token_id = pad;
  ASSIGN_OR_RETURN(const std::optional<int32_t> start,
                   TokenId(fields, "decoder_start_token_id", pad, config.vocab_size));
  if (!start.has_value()) {
    return fields.Error("decoder_start_token_id", "is null; the decoder needs a first token");
  }
  ed.decoder_start_token_id = *start;
  ASSIGN_OR_RETURN(ed.forced_eos_token_id,
                   TokenId(fields, "forced_eos_token_id", std::nullopt, config.vocab_size));
  // Multi-token bad words would need a matcher over the generated suffix; Marian files list only
  // the pad id, and single tokens are all ember bans (longer entries are refused, not ignored).
  ASSIGN_OR_RETURN(const auto bad_words, fields.IntListList("bad_words_ids"));
  for (const std::vector<int64_t>& words :
       bad_words.value_or(std::vector<std::vector<int64_t>>())) {
    if (words.size() != 1 || words[0] < 0 || words[0] >= config.vocab_size) {
      return fields.Error("bad_words_ids",
                          absl::StrCat("holds an entry of ", words.size(), " token(s); ember bans ",
                                       "single tokens inside the vocabulary only"));
    }
    ed.banned_token_ids.push_back(static_cast<int32_t>(words[0]));
  }
  config.encoder_decoder = std::move(ed);
  return absl::OkStatus();
}

}  // namespace

absl::string_view ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kGpt2:
      return "gpt2";
    case Architecture::kLlama:
      return "llama";
    case Architecture::kMarian:
      return "marian";
  }
  return "unknown";
}

absl::string_view ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kGeluTanh:
      return "gelu_tanh";
    case Activation::kGeluErf:
      return "gelu";
    case Activation::kSilu:
      return "silu";
    case Activation::kRelu:
      return "relu";
  }
  return "unknown";
}

absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view json,
                                             absl::string_view source_name) {
  ASSIGN_OR_RETURN(const nlohmann::json object, ParseConfigObject(json, source_name));
  const ConfigFields fields(object, source_name);
  ModelConfig config;
  ASSIGN_OR_RETURN(const std::optional<std::string> model_type, fields.String("model_type"));
  if (!model_type.has_value()) {
    return fields.Error(
        "model_type",
        absl::StrCat("is required but missing (supported: ", kSupportedModelTypes, ")"));
  }
  config.model_type = *model_type;
  if (config.model_type == "gpt2") {
    RETURN_IF_ERROR(ParseGpt2(fields, config));
  } else if (config.model_type == "llama" || config.model_type == "mistral" ||
             config.model_type == "qwen2") {
    RETURN_IF_ERROR(ParseLlamaFamily(fields, config));
  } else if (config.model_type == "marian") {
    RETURN_IF_ERROR(ParseMarian(fields, config));
  } else {
    return fields.Error("model_type", absl::StrCat("is \"", config.model_type,
                                                   "\", which ember does not support (supported: ",
                                                   kSupportedModelTypes, ")"));
  }
  RETURN_IF_ERROR(ParseTorchDtype(fields, config));
  return config;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "config.json");
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, kMaxConfigBytes));
  return ParseModelConfig(text, path);
}

}  // namespace ember
