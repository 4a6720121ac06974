#include "tools/make_model/model_spec.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ember::tools {
namespace {

// The tiny presets draw weights wider than transformers' initializer_range of 0.02: logits are
// sums over hidden_size products, so at width 64 a 0.02 spread gives logits with a standard
// deviation near 0.16 and an almost uniform next-token distribution, where argmax flips on
// rounding noise. 0.1 gives about 0.8, what a 2048-wide model gets from 0.02.
constexpr double kTinyInitStd = 0.1;

ModelSpec TinyLlama() {
  ModelSpec spec;
  spec.family = ModelFamily::kLlama;
  spec.vocab_size = 512;
  spec.hidden_size = 64;
  spec.num_layers = 2;
  spec.num_heads = 4;
  spec.num_kv_heads = 4;
  spec.intermediate_size = 176;  // TinyLlama's 5632 / 2048 ratio
  spec.max_positions = 256;
  spec.norm_eps = 1e-5;
  spec.rope_theta = 10000.0;
  spec.tie_word_embeddings = false;
  spec.init_std = kTinyInitStd;
  return spec;
}

// MarianMTModel in miniature, shaped like Helsinki-NLP/opus-mt-*: post-LN, swish, scaled
// embeddings shared by both stacks and tied to the output projection. vocab_size 0: exactly the
// entries of the vocab.json built from the SentencePiece models.
ModelSpec TinyMarian() {
  ModelSpec spec;
  spec.family = ModelFamily::kMarian;
  spec.vocab_size = 0;
  spec.hidden_size = 64;
  spec.encoder_layers = 2;
  spec.num_layers = 2;
  spec.num_heads = 4;
  spec.num_kv_heads = 4;
  spec.intermediate_size = 128;
  spec.max_positions = 128;
  spec.norm_eps = 1e-5;
  spec.activation = "swish";
  spec.scale_embedding = true;
  spec.normalize_before = false;
  spec.share_encoder_decoder_embeddings = true;
  spec.tie_word_embeddings = true;
  spec.init_std = kTinyInitStd;
  return spec;
}

absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("model spec: ", field, " ", message));
}

absl::Status ValidateMarian(const ModelSpec& spec) {
  if (spec.encoder_layers <= 0) {
    return FieldError("encoder_layers",
                      absl::StrCat("must be positive, got ", spec.encoder_layers));
  }
  if (spec.num_kv_heads != spec.num_heads) {
    return FieldError("num_kv_heads", "must equal num_heads for marian");
  }
  if (spec.rope_scaling != RopeScalingKind::kNone) {
    return FieldError("rope_scaling", "does not apply to marian (sinusoidal positions)");
  }
  if (spec.hidden_size % 2 != 0) {
    return FieldError("hidden_size", "must be even for marian (sin and cos halves)");
  }
  const absl::string_view act = spec.activation;
  if (act != "swish" && act != "silu" && act != "gelu" && act != "gelu_new" && act != "relu") {
    return FieldError("activation",
                      absl::StrCat("\"", act, "\": use swish, silu, gelu, gelu_new or relu"));
  }
  return absl::OkStatus();
}

// One attention block's projections, in MarianAttention's parameter order.
void AddAttention(const std::string& prefix, int64_t e, std::vector<WeightSpec>& out) {
  for (const char* proj : {"k_proj", "v_proj", "q_proj", "out_proj"}) {
    out.push_back({absl::StrCat(prefix, proj, ".weight"), {e, e}, InitKind::kNormal});
    out.push_back({absl::StrCat(prefix, proj, ".bias"), {e}, InitKind::kBias});
  }
}

void AddLayerNorm(const std::string& prefix, int64_t e, std::vector<WeightSpec>& out) {
  out.push_back({prefix + ".weight", {e}, InitKind::kNormGain});
  out.push_back({prefix + ".bias", {e}, InitKind::kBias});
}

// One stack ("encoder" or "decoder") of MarianMTModel, in state_dict order.
void AddMarianStack(const ModelSpec& spec, bool decoder, std::vector<WeightSpec>& out) {
  const int64_t e = spec.hidden_size;
  const int64_t f = spec.intermediate_size;
  const std::string stack = decoder ? "model.decoder." : "model.encoder.";
  if (!spec.share_encoder_decoder_embeddings) {
    out.push_back({stack + "embed_tokens.weight", {spec.vocab_size, e}, InitKind::kNormal});
  }
  out.push_back({stack + "embed_positions.weight", {spec.max_positions, e}, InitKind::kSinusoidal});
  const int64_t layers = decoder ? spec.num_layers : spec.encoder_layers;
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = absl::StrCat(stack, "layers.", i, ".");
    AddAttention(p + "self_attn.", e, out);
    AddLayerNorm(p + "self_attn_layer_norm", e, out);
    if (decoder) {
      AddAttention(p + "encoder_attn.", e, out);
      AddLayerNorm(p + "encoder_attn_layer_norm", e, out);
    }
    out.push_back({p + "fc1.weight", {f, e}, InitKind::kNormal});
    out.push_back({p + "fc1.bias", {f}, InitKind::kBias});
    out.push_back({p + "fc2.weight", {e, f}, InitKind::kNormal});
    out.push_back({p + "fc2.bias", {e}, InitKind::kBias});
    AddLayerNorm(p + "final_layer_norm", e, out);
  }
  if (spec.normalize_before) AddLayerNorm(stack + "layer_norm", e, out);
}

// MarianMTModel's state_dict order: its own buffer final_logits_bias first, then the model, then
// lm_head. Tied names (the embed_tokens aliases of model.shared, a tied lm_head) are written once,
// as save_pretrained does.
std::vector<WeightSpec> MarianTensors(const ModelSpec& spec) {
  std::vector<WeightSpec> out;
  out.push_back({"final_logits_bias", {1, spec.vocab_size}, InitKind::kBias});
  if (spec.share_encoder_decoder_embeddings) {
    out.push_back({"model.shared.weight", {spec.vocab_size, spec.hidden_size}, InitKind::kNormal});
  }
  AddMarianStack(spec, /*decoder=*/false, out);
  AddMarianStack(spec, /*decoder=*/true, out);
  if (!spec.tie_word_embeddings) {
    out.push_back({"lm_head.weight", {spec.vocab_size, spec.hidden_size}, InitKind::kNormal});
  }
  return out;
}

}  // namespace

std::vector<std::string> PresetNames() {
  return {"tiny-gpt2",         "tiny-llama", "tiny-llama-gqa", "tiny-qwen2",  "tiny-marian",
          "tiny-marian-preln", "gpt2-124m",  "tinyllama-1.1b", "opus-mt-base"};
}

absl::StatusOr<ModelSpec> PresetSpec(absl::string_view name) {
  if (name == "tiny-gpt2") {
    ModelSpec spec;
    spec.family = ModelFamily::kGpt2;
    spec.vocab_size = 512;
    spec.hidden_size = 64;
    spec.num_layers = 2;
    spec.num_heads = 4;
    spec.num_kv_heads = 4;
    spec.intermediate_size = 256;
    spec.max_positions = 128;
    spec.norm_eps = 1e-5;
    spec.tie_word_embeddings = true;
    spec.init_std = kTinyInitStd;
    return spec;
  }
  if (name == "tiny-llama") return TinyLlama();
  if (name == "tiny-llama-gqa") {
    ModelSpec spec = TinyLlama();
    spec.num_kv_heads = 2;
    return spec;
  }
  if (name == "tiny-qwen2") {
    // Qwen2-0.5B's shape choices in miniature: GQA, q/k/v biases, tied embeddings, theta 1e6.
    ModelSpec spec = TinyLlama();
    spec.family = ModelFamily::kQwen2;
    spec.num_kv_heads = 2;
    spec.norm_eps = 1e-6;
    spec.rope_theta = 1000000.0;
    spec.tie_word_embeddings = true;
    return spec;
  }
  if (name == "tiny-marian") return TinyMarian();
  if (name == "tiny-marian-preln") {
    // Every switch the opus-mt shape leaves off: pre-LN with final stack norms, erf gelu, no
    // embedding scale, separate encoder/decoder embeddings and an untied lm_head, and encoder and
    // decoder depths that differ, so a mixed-up stack shows.
    ModelSpec spec = TinyMarian();
    spec.hidden_size = 48;
    spec.encoder_layers = 3;
    spec.num_layers = 2;
    spec.num_heads = 2;
    spec.num_kv_heads = 2;
    spec.intermediate_size = 96;
    spec.activation = "gelu";
    spec.scale_embedding = false;
    spec.normalize_before = true;
    spec.share_encoder_decoder_embeddings = false;
    spec.tie_word_embeddings = false;
    return spec;
  }
  if (name == "gpt2-124m") {
    ModelSpec spec;
    spec.family = ModelFamily::kGpt2;
    spec.vocab_size = 50257;
    spec.hidden_size = 768;
    spec.num_layers = 12;
    spec.num_heads = 12;
    spec.num_kv_heads = 12;
    spec.intermediate_size = 3072;
    spec.max_positions = 1024;
    spec.norm_eps = 1e-5;
    spec.tie_word_embeddings = true;
    return spec;
  }
  if (name == "tinyllama-1.1b") {
    ModelSpec spec = TinyLlama();
    spec.vocab_size = 32000;
    spec.hidden_size = 2048;
    spec.num_layers = 22;
    spec.num_heads = 32;
    spec.num_kv_heads = 4;
    spec.intermediate_size = 5632;
    spec.max_positions = 2048;
    spec.dtype = DType::kBF16;  // as published
    spec.init_std = 0.02;
    return spec;
  }
  if (name == "opus-mt-base") {
    // Helsinki-NLP/opus-mt-en-de's shape (74M parameters), for benchmarks.
    ModelSpec spec = TinyMarian();
    spec.vocab_size = 58101;
    spec.hidden_size = 512;
    spec.encoder_layers = 6;
    spec.num_layers = 6;
    spec.num_heads = 8;
    spec.num_kv_heads = 8;
    spec.intermediate_size = 2048;
    spec.max_positions = 512;
    spec.init_std = 0.02;
    return spec;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown preset \"", name, "\" (presets: ", absl::StrJoin(PresetNames(), ", "), ")"));
}

absl::Status ValidateSpec(const ModelSpec& spec) {
  const std::pair<const char*, int64_t> sizes[] = {
      {"vocab_size", spec.vocab_size},      {"hidden_size", spec.hidden_size},
      {"num_layers", spec.num_layers},      {"num_heads", spec.num_heads},
      {"num_kv_heads", spec.num_kv_heads},  {"intermediate_size", spec.intermediate_size},
      {"max_positions", spec.max_positions}};
  for (const auto& [field, value] : sizes) {
    if (value <= 0) return FieldError(field, absl::StrCat("must be positive, got ", value));
  }
  if (spec.hidden_size % spec.num_heads != 0) {
    return FieldError("num_heads", absl::StrCat("(", spec.num_heads, ") must divide hidden_size (",
                                                spec.hidden_size, ")"));
  }
  if (spec.num_heads % spec.num_kv_heads != 0) {
    return FieldError(
        "num_kv_heads",
        absl::StrCat("(", spec.num_kv_heads, ") must divide num_heads (", spec.num_heads, ")"));
  }
  if (!(spec.norm_eps > 0)) return FieldError("norm_eps", "must be positive");
  if (!(spec.init_std > 0)) return FieldError("init_std", "must be positive");
  if (spec.family == ModelFamily::kMarian) return ValidateMarian(spec);
  if (spec.family == ModelFamily::kGpt2) {
    if (spec.num_kv_heads != spec.num_heads) {
      return FieldError("num_kv_heads",
                        "must equal num_heads for gpt2 (no grouped-query attention)");
    }
    if (spec.rope_scaling != RopeScalingKind::kNone) {
      return FieldError("rope_scaling", "does not apply to gpt2 (learned positions)");
    }
  } else {
    if (spec.head_dim() % 2 != 0) {
      return FieldError("hidden_size", absl::StrCat("/ num_heads gives an odd head_dim (",
                                                    spec.head_dim(), "); rotary needs it even"));
    }
    if (!(spec.rope_theta > 0)) return FieldError("rope_theta", "must be positive");
    if (spec.rope_scaling == RopeScalingKind::kLlama3 && spec.max_positions < 4) {
      return FieldError("max_positions", "must be >= 4 for llama3 rope scaling");
    }
  }
  return absl::OkStatus();
}

std::vector<WeightSpec> CheckpointTensors(const ModelSpec& spec) {
  const int64_t h = spec.hidden_size;
  const int64_t v = spec.vocab_size;
  const int64_t ff = spec.intermediate_size;
  if (spec.family == ModelFamily::kMarian) return MarianTensors(spec);
  std::vector<WeightSpec> out;
  const auto add = [&out](std::string name, Shape shape, InitKind init) {
    out.push_back({std::move(name), std::move(shape), init});
  };
  if (spec.family == ModelFamily::kGpt2) {
    add("wte.weight", {v, h}, InitKind::kNormal);
    add("wpe.weight", {spec.max_positions, h}, InitKind::kNormal);
    for (int64_t i = 0; i < spec.num_layers; ++i) {
      const std::string p = absl::StrCat("h.", i, ".");
      // Conv1D stores weight as [in_features, out_features], transposed against nn.Linear.
      add(p + "ln_1.weight", {h}, InitKind::kNormGain);
      add(p + "ln_1.bias", {h}, InitKind::kBias);
      add(p + "attn.c_attn.weight", {h, 3 * h}, InitKind::kNormal);
      add(p + "attn.c_attn.bias", {3 * h}, InitKind::kBias);
      add(p + "attn.c_proj.weight", {h, h}, InitKind::kNormal);
      add(p + "attn.c_proj.bias", {h}, InitKind::kBias);
      add(p + "ln_2.weight", {h}, InitKind::kNormGain);
      add(p + "ln_2.bias", {h}, InitKind::kBias);
      add(p + "mlp.c_fc.weight", {h, ff}, InitKind::kNormal);
      add(p + "mlp.c_fc.bias", {ff}, InitKind::kBias);
      add(p + "mlp.c_proj.weight", {ff, h}, InitKind::kNormal);
      add(p + "mlp.c_proj.bias", {h}, InitKind::kBias);
    }
    add("ln_f.weight", {h}, InitKind::kNormGain);
    add("ln_f.bias", {h}, InitKind::kBias);
    if (!spec.tie_word_embeddings) add("lm_head.weight", {v, h}, InitKind::kNormal);
    return out;
  }
  const int64_t kv = spec.num_kv_heads * spec.head_dim();
  const bool qkv_bias = spec.family == ModelFamily::kQwen2;
  add("model.embed_tokens.weight", {v, h}, InitKind::kNormal);
  for (int64_t i = 0; i < spec.num_layers; ++i) {
    const std::string p = absl::StrCat("model.layers.", i, ".");
    // nn.Linear stores weight as [out_features, in_features].
    add(p + "self_attn.q_proj.weight", {h, h}, InitKind::kNormal);
    if (qkv_bias) add(p + "self_attn.q_proj.bias", {h}, InitKind::kBias);
    add(p + "self_attn.k_proj.weight", {kv, h}, InitKind::kNormal);
    if (qkv_bias) add(p + "self_attn.k_proj.bias", {kv}, InitKind::kBias);
    add(p + "self_attn.v_proj.weight", {kv, h}, InitKind::kNormal);
    if (qkv_bias) add(p + "self_attn.v_proj.bias", {kv}, InitKind::kBias);
    add(p + "self_attn.o_proj.weight", {h, h}, InitKind::kNormal);
    add(p + "mlp.gate_proj.weight", {ff, h}, InitKind::kNormal);
    add(p + "mlp.up_proj.weight", {ff, h}, InitKind::kNormal);
    add(p + "mlp.down_proj.weight", {h, ff}, InitKind::kNormal);
    add(p + "input_layernorm.weight", {h}, InitKind::kNormGain);
    add(p + "post_attention_layernorm.weight", {h}, InitKind::kNormGain);
  }
  add("model.norm.weight", {h}, InitKind::kNormGain);
  if (!spec.tie_word_embeddings) add("lm_head.weight", {v, h}, InitKind::kNormal);
  return out;
}

}  // namespace ember::tools
