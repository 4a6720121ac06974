// The architecture hyper-parameters of a Hugging Face checkpoint, read from its config.json.
//
// ModelConfig is configuration only: no weights (see the safetensors reader) and no run state (KV
// cache, batch). Parsing follows the semantics of the `transformers` config classes (GPT2Config,
// LlamaConfig, MistralConfig, Qwen2Config, MarianConfig): absent optional keys take those classes'
// defaults, and derived values (head_dim, intermediate_size, which projections carry a bias) are
// resolved here so that no other module has to know per-architecture key names. Keys ember does
// not know are ignored (real configs carry many: initializer_range, use_cache, *_pdrop, ...); known
// keys with a value ember cannot honour are errors, never silently ignored.
#ifndef EMBER_CORE_MODEL_MODEL_CONFIG_H_
#define EMBER_CORE_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember {

// The tensor layout family. kLlama covers the `model_type`s llama, mistral and qwen2: pre-norm
// decoder blocks with RMSNorm, rotary embeddings, (grouped-query) attention and a gated MLP; they
// differ only in the settings below (biases, sliding window, tying).
enum class Architecture {
  kGpt2,   // model_type "gpt2": learned positions, LayerNorm, Conv1D projections, biases everywhere
  kLlama,  // model_type "llama", "mistral", "qwen2"
  kMarian,  // model_type "marian": the encoder-decoder Transformer (MarianMT; docs/MARIAN.md)
};

enum class NormKind {
  kLayerNorm,  // (x - mean) / sqrt(var + eps) * weight + bias (GPT-2)
  kRmsNorm,    // x / sqrt(mean(x^2) + eps) * weight (Llama family)
};

// The MLP non-linearity. Hugging Face names several spellings of the same function; they map to
// one value each so kernels need not know the spellings.
enum class Activation {
  kGeluTanh,  // "gelu_new", "gelu_pytorch_tanh": 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
  kGeluErf,   // "gelu": 0.5x(1 + erf(x / sqrt(2)))
  kSilu,      // "silu" (also spelled "swish"): x * sigmoid(x)
  kRelu,      // "relu": max(x, 0)
};

// How rotary position frequencies are rescaled for long contexts (`rope_scaling` in config.json).
enum class RopeScalingType {
  kNone,    // absent, null, or rope_type "default": inv_freq = theta^(-2i/head_dim)
  kLinear,  // positions divided by `factor` (equivalently every inv_freq divided by it)
  kLlama3,  // Llama 3.1 piecewise rescaling by wavelength (low/high_freq_factor)
};

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  // kLinear, kLlama3: the context extension factor (>= 1). 1 when kNone.
  double factor = 1.0;
  // kLlama3: wavelengths longer than original_max_position_embeddings / low_freq_factor are
  // divided by `factor`; those shorter than original / high_freq_factor are kept; in between the
  // two are blended. low_freq_factor < high_freq_factor.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  // kLlama3: the context length the model was pre-trained on (8192 for Llama 3.1).
  int64_t original_max_position_embeddings = 0;
};

// The encoder half and the seq2seq settings of an encoder-decoder model (Marian). The decoder's
// sizes are ModelConfig's own fields (num_layers = decoder_layers, num_heads =
// decoder_attention_heads, intermediate_size = decoder_ffn_dim), so the KV cache and the decoder
// need nothing from here.
struct EncoderDecoderConfig {
  int64_t encoder_layers = 0;     // `encoder_layers`
  int64_t encoder_heads = 0;      // `encoder_attention_heads`; divides hidden_size
  int64_t encoder_ffn_dim = 0;    // `encoder_ffn_dim`
  bool scale_embedding = false;   // embeddings times sqrt(d_model) (`scale_embedding`)
  bool normalize_before = false;  // pre-LN blocks plus a final norm per stack; post-LN when false
  // `share_encoder_decoder_embeddings` (default true): one embedding matrix for both stacks.
  bool share_embeddings = true;
  // The decoder's first token (`decoder_start_token_id`; Marian: the pad id).
  int32_t decoder_start_token_id = 0;
  // Forced as the last token a length limit allows (`forced_eos_token_id`); nullopt when absent.
  std::optional<int32_t> forced_eos_token_id;
  // The single-token entries of `bad_words_ids` (Marian: [[pad]]): never generated.
  std::vector<int32_t> banned_token_ids;
};

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  // config.json's `model_type` as written: "gpt2", "llama", "mistral", "qwen2" or "marian".
  std::string model_type;

  // Rows of the token embedding (and of the LM head). May exceed the tokenizer's size: checkpoints
  // pad it (Qwen2: 151936 rows for 151646 tokens).
  int64_t vocab_size = 0;
  // The residual stream width (gpt2 `n_embd`, llama `hidden_size`).
  int64_t hidden_size = 0;
  // Decoder blocks (gpt2 `n_layer`, llama `num_hidden_layers`).
  int64_t num_layers = 0;
  // Query heads (gpt2 `n_head`, llama `num_attention_heads`).
  int64_t num_heads = 0;
  // Key/value heads (`num_key_value_heads`; = num_heads when absent, i.e. multi-head attention).
  // Divides num_heads: each KV head serves num_heads / num_kv_heads query heads.
  int64_t num_kv_heads = 0;
  // Width of one head. The explicit `head_dim` when the file has one (then num_heads * head_dim
  // need not equal hidden_size), else hidden_size / num_heads. Even for rotary models.
  int64_t head_dim = 0;
  // Inner width of the MLP (llama `intermediate_size`; gpt2 `n_inner`, or 4 * hidden_size when
  // that is null or absent).
  int64_t intermediate_size = 0;
  // The longest sequence the position scheme covers (gpt2 `n_positions`, falling back to the
  // legacy `n_ctx`; llama `max_position_embeddings`).
  int64_t max_position_embeddings = 0;
  // The longest context ember will serve: max_position_embeddings, lowered to sliding_window when a
  // window is active, because a sequence no longer than the window attends exactly as full causal
  // attention does, so no windowed kernel is needed.
  int64_t max_context = 0;
  // The attention window in tokens when sliding-window attention is active (mistral
  // `sliding_window`; qwen2 `sliding_window` with `use_sliding_window: true`); nullopt otherwise.
  std::optional<int64_t> sliding_window;

  NormKind norm = NormKind::kRmsNorm;
  // Added to the variance in every norm (`rms_norm_eps` / `layer_norm_epsilon`). > 0.
  double norm_eps = 1e-6;
  Activation activation = Activation::kSilu;

  // Rotary embedding base (`rope_theta`, default 10000). Unused by kGpt2.
  double rope_theta = 10000.0;
  // Rotary frequency rescaling (`rope_scaling`). Always kNone for kGpt2.
  RopeScaling rope_scaling;

  // Whether the q, k and v projections carry a bias (gpt2 and qwen2: always; llama:
  // `attention_bias`; mistral: never).
  bool attention_qkv_bias = false;
  // Whether the attention output projection carries a bias (gpt2: always; llama:
  // `attention_bias`; mistral and qwen2: never).
  bool attention_output_bias = false;
  // Whether the MLP projections carry biases (gpt2: always; llama: `mlp_bias`; others: never).
  bool mlp_bias = false;
  // Whether the LM head reuses the token embedding matrix, so the checkpoint may omit lm_head
  // (`tie_word_embeddings`; default true for gpt2, false for the Llama family).
  bool tie_word_embeddings = false;

  // Special token ids from config.json; each lies in [0, vocab_size). Defaults are the config
  // classes' (gpt2: 50256/50256, llama and mistral: 1/2, qwen2: none).
  std::optional<int32_t> bos_token_id;
  // `eos_token_id`, an int or a list (Llama 3.1: [128001, 128008, 128009]); empty when absent.
  std::vector<int32_t> eos_token_ids;
  std::optional<int32_t> pad_token_id;

  // The dtype the checkpoint was saved in (`torch_dtype`, or `dtype` in newer files): "float32",
  // "float16" or "bfloat16"; empty when absent. A hint only: the safetensors header is
  // authoritative for each tensor.
  std::string torch_dtype;

  // Set for encoder-decoder models (kMarian) only.
  std::optional<EncoderDecoderConfig> encoder_decoder;
};

// The spelling used in messages and logs: "gpt2", "llama", "marian".
absl::string_view ArchitectureName(Architecture architecture);
// "gelu_tanh", "gelu", "silu", "relu".
absl::string_view ActivationName(Activation activation);

// Parses and validates the text of a config.json. `source_name` (usually the file's path) starts
// every error message. INVALID_ARGUMENT when: the text is not a JSON object; `model_type` is
// missing or not one of gpt2, llama, mistral, qwen2, marian (the message lists the supported ones);
// a required size field is missing; a known field has the wrong JSON type; a size is not positive
// or a position count exceeds 2^31 - 1;
// num_heads does not divide hidden_size (without an explicit head_dim) or num_kv_heads does not
// divide num_heads; a token id is outside [0, vocab_size); or a known field has a value ember
// does not implement (an unknown activation or rope_scaling type, gpt2
// scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn true, ...). Messages name the field.
absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view json, absl::string_view source_name);

// Reads and parses `<model_dir>/config.json`. NOT_FOUND when the file does not exist.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_MODEL_CONFIG_H_
