#include "bench/engine_bench_costs.h"

#include "core/kernels/onednn/linear.h"
#include "core/kernels/quant/quant_linear.h"

namespace ember::bench {

double ModelCosts::DecodeBytes(int64_t batch, double context) const {
  const double b = static_cast<double>(batch);
  return matmul_weight_bytes + norm_bytes +
         b * (embedding_row_bytes + kv_bytes_per_position * context);
}

double ModelCosts::PrefillFlopsPerToken(int64_t tokens) const {
  return 2.0 * layer_params + 2.0 * lm_head_params / static_cast<double>(tokens);
}

double ModelCosts::PrefillAttentionFlopsPerToken(int64_t tokens) const {
  return attention_flops_per_key * (static_cast<double>(tokens) + 1.0) / 2.0;
}

absl::StatusOr<ModelCosts> ComputeModelCosts(const ModelConfig& c, DType compute,
                                             const std::optional<quant::QuantScheme>& quantize,
                                             bool quantize_lm_head) {
  const bool llama = c.architecture == Architecture::kLlama;
  const int64_t q_width = c.num_heads * c.head_dim;
  const int64_t kv_width = c.num_kv_heads * c.head_dim;
  struct Spec {
    LinearUse use;
    bool bias;
  };
  const std::vector<Spec> specs = {
      {{"qkv", c.hidden_size, q_width + 2 * kv_width, c.num_layers}, c.attention_qkv_bias},
      {{"attn_out", q_width, c.hidden_size, c.num_layers}, c.attention_output_bias},
      {{"mlp_in", c.hidden_size, (llama ? 2 : 1) * c.intermediate_size, c.num_layers}, c.mlp_bias},
      {{"mlp_out", c.intermediate_size, c.hidden_size, c.num_layers}, c.mlp_bias},
      {{"lm_head", c.hidden_size, c.vocab_size, 1}, false},
  };
  ModelCosts costs;
  for (const Spec& s : specs) {
    onednn::LinearShape shape;
    shape.in = s.use.in;
    shape.out = s.use.out;
    shape.compute = compute;
    shape.has_bias = s.bias;
    const bool quantized = quantize.has_value() && (s.use.name != "lm_head" || quantize_lm_head);
    absl::StatusOr<size_t> bytes =
        quantized ? quant::QuantLinear::StorageBytes(
                        {shape.in, shape.out, *quantize, onednn::LinearActivation::kNone, s.bias})
                  : onednn::Linear::StorageBytes(shape);
    if (!bytes.ok()) return bytes.status();
    const double count = static_cast<double>(s.use.count);
    const double params = static_cast<double>(s.use.in) * static_cast<double>(s.use.out);
    costs.matmul_weight_bytes += count * static_cast<double>(*bytes);
    if (s.use.name == "lm_head") {
      costs.lm_head_params = params;
    } else {
      costs.layer_params += count * params;
    }
    costs.uses.push_back(s.use);
    costs.use_bytes.push_back(static_cast<double>(*bytes));
  }
  const double h = static_cast<double>(c.hidden_size);
  const double per_norm = llama ? h * 4 : 2 * h * 4;  // gamma (+ beta) in f32
  costs.norm_bytes = (2.0 * static_cast<double>(c.num_layers) + 1.0) * per_norm;
  // The table is kept in bf16 only when compute is bf16; GPT-2 adds its learned f32 positions.
  costs.embedding_row_bytes =
      h * static_cast<double>(DTypeSize(compute)) + (llama ? 0.0 : h * sizeof(float));
  const double layers = static_cast<double>(c.num_layers);
  costs.kv_bytes_per_position =
      layers * 2.0 * static_cast<double>(kv_width) * static_cast<double>(DTypeSize(compute));
  costs.attention_flops_per_key = layers * 4.0 * static_cast<double>(q_width);
  return costs;
}

}  // namespace ember::bench
