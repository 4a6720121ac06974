// What ember_make_model generates: the architecture sizes of a checkpoint (presets plus overrides)
// and the list of tensors, with Hugging Face names and shapes, that such a checkpoint holds.
#ifndef EMBER_TOOLS_MAKE_MODEL_MODEL_SPEC_H_
#define EMBER_TOOLS_MAKE_MODEL_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tensor/dtype.h"
#include "core/tensor/shape.h"

namespace ember::tools {

// The layouts the generator writes. kQwen2 is the Llama layout plus q/k/v biases, with a
// Qwen2-style byte-level tokenizer. kMarian is MarianMTModel (encoder-decoder translation, see
// docs/MARIAN.md) with SentencePiece source/target models and a shared vocab.json.
enum class ModelFamily { kGpt2, kLlama, kQwen2, kMarian };

enum class RopeScalingKind {
  kNone,
  kLinear,  // rope_scaling {"rope_type": "linear", "factor": 2.0}
  kLlama3,  // Llama 3.1 style: factor 4, low 1, high 4, original = max_positions / 4
};

struct ModelSpec {
  ModelFamily family = ModelFamily::kLlama;
  // Embedding rows; also the tokenizer's total size (the generator sizes the tokenizer to match).
  // Marian: 0 means "exactly the entries of vocab.json" (resolved by MakeModel); a larger value
  // leaves the ids between the last piece and <pad> (= vocab_size - 1) unused.
  int64_t vocab_size = 0;
  // Residual width (gpt2 n_embd); num_heads divides it.
  int64_t hidden_size = 0;
  // Decoder blocks (Marian: decoder_layers).
  int64_t num_layers = 0;
  // Query heads; head_dim = hidden_size / num_heads (even for the rotary families). Marian: the
  // heads of every attention (encoder_attention_heads = decoder_attention_heads).
  int64_t num_heads = 0;
  // Key/value heads (GQA); = num_heads for gpt2.
  int64_t num_kv_heads = 0;
  // MLP inner width; gpt2 writes `n_inner: null` when this is 4 * hidden_size. Marian: both
  // encoder_ffn_dim and decoder_ffn_dim.
  int64_t intermediate_size = 0;
  // Learned positions (gpt2) / max_position_embeddings (llama family).
  int64_t max_positions = 0;
  // LayerNorm / RMSNorm epsilon (> 0).
  double norm_eps = 1e-5;
  // Rotary base; unused by gpt2.
  double rope_theta = 10000.0;
  // rope_scaling written into config.json (llama family only).
  RopeScalingKind rope_scaling = RopeScalingKind::kNone;
  // When true the checkpoint has no lm_head.weight (it reuses the embedding).
  bool tie_word_embeddings = false;
  // Storage dtype of every tensor.
  DType dtype = DType::kF32;
  // Standard deviation of the random weights (embeddings, projections); norms are 1 + noise of
  // this size and biases noise of this size. transformers' initializer_range (0.02) for the
  // full-size presets, 0.1 for the tiny ones (see model_spec.cc).
  double init_std = 0.02;

  // Marian only (the other families ignore these).
  int64_t encoder_layers = 0;
  // activation_function: swish, silu, gelu, gelu_new or relu.
  std::string activation = "swish";
  // Embeddings are multiplied by sqrt(hidden_size).
  bool scale_embedding = true;
  // Pre-LN blocks plus a final layer_norm per stack (mBART style) instead of post-LN.
  bool normalize_before = false;
  // One model.shared.weight for both stacks, else separate encoder/decoder embed_tokens.
  bool share_encoder_decoder_embeddings = true;

  int64_t head_dim() const { return hidden_size / num_heads; }
};

// Preset names, in the order --help lists them.
std::vector<std::string> PresetNames();

// The sizes of a named preset (tiny-gpt2, tiny-llama, tiny-llama-gqa, tiny-qwen2, tiny-marian,
// tiny-marian-preln, gpt2-124m, tinyllama-1.1b, opus-mt-base). INVALID_ARGUMENT listing the presets
// for an unknown name.
absl::StatusOr<ModelSpec> PresetSpec(absl::string_view name);

// Checks sizes are positive, heads divide hidden_size, kv heads divide heads, head_dim is even for
// rotary families, gpt2 has no GQA or rope scaling, Marian has a known activation, an even
// hidden_size (sinusoids) and no GQA or rope scaling. Errors name the field.
absl::Status ValidateSpec(const ModelSpec& spec);

// How a tensor's values are drawn.
enum class InitKind {
  kNormal,    // N(0, init_std): embeddings and projection weights
  kNormGain,  // 1 + N(0, init_std): LayerNorm / RMSNorm weights
  kBias,      // N(0, init_std): biases (LayerNorm biases too)
  // Marian's fixed positions: [max_positions, hidden_size] sinusoids (FillSinusoids), no seed.
  kSinusoidal,
};

struct WeightSpec {
  std::string name;
  Shape shape;
  InitKind init = InitKind::kNormal;
};

// Every tensor of the checkpoint with its Hugging Face name and shape, in the model's parameter
// order (the order transformers' state_dict lists them, which is how it cuts shards). gpt2 uses
// the names of the original openai-community/gpt2 checkpoint (no "transformer." prefix) and
// Conv1D layout ([in, out]); the Llama family and Marian use nn.Linear layout ([out, in]).
std::vector<WeightSpec> CheckpointTensors(const ModelSpec& spec);

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_MODEL_SPEC_H_
