// The packed weights of a MarianMT encoder-decoder (docs/MARIAN.md), ready for the forward pass.
// Weights only: sizes are ModelConfig (+ EncoderDecoderConfig), run state lives in MarianModel and
// the KV cache. Everything points into one WeightArena.
#ifndef EMBER_CORE_MODEL_MARIAN_WEIGHTS_H_
#define EMBER_CORE_MODEL_MARIAN_WEIGHTS_H_

#include <memory>
#include <vector>

#include "core/kernels/linear_layer.h"
#include "core/model/decoder_weights.h"
#include "core/model/weight_arena.h"
#include "core/tensor/dtype.h"

namespace ember {

struct MarianEncoderLayerWeights {
  std::unique_ptr<LinearLayer> qkv;       // fused q|k|v: [E] -> [3E], with biases
  std::unique_ptr<LinearLayer> attn_out;  // [E] -> [E], accumulated into the residual
  NormWeights attn_norm;                  // self_attn_layer_norm
  std::unique_ptr<LinearLayer> fc1;       // [E] -> [F], activation fused
  std::unique_ptr<LinearLayer> fc2;       // [F] -> [E], accumulated into the residual
  NormWeights mlp_norm;                   // final_layer_norm
};

struct MarianDecoderLayerWeights {
  std::unique_ptr<LinearLayer> self_qkv;  // [E] -> [3E]
  std::unique_ptr<LinearLayer> self_out;  // [E] -> [E]
  NormWeights self_norm;                  // self_attn_layer_norm
  std::unique_ptr<LinearLayer> cross_q;   // encoder_attn.q_proj: [E] -> [E]
  // encoder_attn k|v over the encoder output: [E] -> [2E], run once per request at encode time.
  std::unique_ptr<LinearLayer> cross_kv;
  std::unique_ptr<LinearLayer> cross_out;  // [E] -> [E]
  NormWeights cross_norm;                  // encoder_attn_layer_norm
  std::unique_ptr<LinearLayer> fc1;
  std::unique_ptr<LinearLayer> fc2;
  NormWeights mlp_norm;  // final_layer_norm
};

struct MarianWeights {
  // Type of the matmul weights and of the activations fed to them (F32 or BF16).
  DType compute = DType::kF32;
  // [vocab, E] row-major in `compute`, for the token lookup: the same pointer for both stacks when
  // the embeddings are shared. The LM head keeps its own packed copy.
  const void* encoder_embedding = nullptr;
  const void* decoder_embedding = nullptr;
  std::vector<MarianEncoderLayerWeights> encoder_layers;
  std::vector<MarianDecoderLayerWeights> decoder_layers;
  // Pre-LN models only (normalize_before): the norm after each stack's last layer.
  NormWeights encoder_final_norm;
  NormWeights decoder_final_norm;
  std::unique_ptr<LinearLayer> lm_head;      // [E] -> [vocab]
  const float* final_logits_bias = nullptr;  // [vocab]; nullptr when the checkpoint has none
  WeightArena arena;                         // owns every pointer above
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_MARIAN_WEIGHTS_H_
