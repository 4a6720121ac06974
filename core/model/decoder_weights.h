// The packed weights of a decoder-only Transformer (GPT-2 or the Llama family), ready for the
// forward pass. Weights only: the config is ModelConfig, run state (KV cache, scratch) lives
// elsewhere. Everything points into one WeightArena; the checkpoint can be closed after loading.
#ifndef EMBER_CORE_MODEL_DECODER_WEIGHTS_H_
#define EMBER_CORE_MODEL_DECODER_WEIGHTS_H_

#include <memory>
#include <vector>

#include "core/kernels/linear_layer.h"
#include "core/model/weight_arena.h"
#include "core/tensor/dtype.h"

namespace ember {

struct NormWeights {
  const float* gamma = nullptr;  // [hidden]
  const float* beta = nullptr;   // [hidden]; nullptr for RMSNorm
};

struct DecoderLayerWeights {
  NormWeights attn_norm;
  // Fused q|k|v projection: [hidden] -> [(num_heads + 2 * num_kv_heads) * head_dim], with bias when
  // the config has q/k/v biases.
  std::unique_ptr<LinearLayer> qkv;
  // [num_heads * head_dim] -> [hidden]; the forward pass accumulates it into the residual stream.
  std::unique_ptr<LinearLayer> attn_out;
  NormWeights mlp_norm;
  // GPT-2: c_fc with the activation fused, [hidden] -> [intermediate].
  // Llama: fused gate|up, [hidden] -> [2 * intermediate] (gate in the first half).
  std::unique_ptr<LinearLayer> mlp_in;
  // [intermediate] -> [hidden], accumulated into the residual stream.
  std::unique_ptr<LinearLayer> mlp_out;
};

struct DecoderWeights {
  // Type of the matmul weights and of the activations fed to them (F32 or BF16).
  DType compute = DType::kF32;
  // [vocab, hidden] row-major in `embedding_dtype` (F32 or BF16), for the token lookup. A tied LM
  // head keeps its own packed copy in `lm_head`: oneDNN's blocked layout cannot be gathered by row.
  const void* token_embedding = nullptr;
  DType embedding_dtype = DType::kF32;
  // GPT-2 learned positions [max_positions, hidden] f32; nullptr for rotary models.
  const float* position_embedding = nullptr;
  std::vector<DecoderLayerWeights> layers;
  NormWeights final_norm;
  std::unique_ptr<LinearLayer> lm_head;  // [hidden] -> [vocab]
  WeightArena arena;                     // owns every pointer above
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_DECODER_WEIGHTS_H_
