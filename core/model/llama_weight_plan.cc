// Llama-family (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM) tensors: nn.Linear
// projections stored [out, in]. q/k/v are stacked into one matmul, gate/up into another.
#include "absl/strings/str_cat.h"
#include "core/model/decoder_weight_plans.h"
#include "core/util/status_macros.h"

namespace ember {

absl::StatusOr<WeightPlan> PlanLlamaWeights(const ModelConfig& config, const Checkpoint& checkpoint,
                                            DType compute, DecoderWeights& weights,
                                            std::vector<std::string>& used) {
  if (config.activation != Activation::kSilu) {
    return absl::InvalidArgumentError(absl::StrCat(
        checkpoint.dir(), "/config.json: hidden_act \"", ActivationName(config.activation),
        "\" is not supported for ", config.model_type, " (ember's gated MLP implements silu)"));
  }
  const int64_t h = config.hidden_size, v = config.vocab_size, inner = config.intermediate_size;
  const int64_t q_out = config.num_heads * config.head_dim;
  const int64_t kv_out = config.num_kv_heads * config.head_dim;
  WeightPlan plan;
  auto tensor = [&](const std::string& name, const Shape& shape) -> absl::StatusOr<TensorView> {
    used.push_back(name);
    return ExpectTensor(checkpoint, name, shape);
  };
  auto norm = [&](const std::string& name, NormWeights& out) -> absl::Status {
    ASSIGN_OR_RETURN(TensorView view, tensor(name, {h}));
    plan.copies.push_back({view, DType::kF32, reinterpret_cast<const void**>(&out.gamma)});
    return absl::OkStatus();
  };
  // A Linear over stacked [out_i, in] parts; biases (when `bias`) are "<part>.bias" of [out_i].
  auto linear = [&](const std::vector<std::string>& bases, const std::vector<int64_t>& outs,
                    int64_t in, bool bias, std::unique_ptr<LinearLayer>* target) -> absl::Status {
    LinearJob job;
    int64_t total_out = 0;
    for (size_t i = 0; i < bases.size(); ++i) {
      ASSIGN_OR_RETURN(TensorView w, tensor(bases[i] + ".weight", {outs[i], in}));
      job.parts.push_back(w);
      if (bias) {
        ASSIGN_OR_RETURN(TensorView b, tensor(bases[i] + ".bias", {outs[i]}));
        job.bias_parts.push_back(b);
      }
      total_out += outs[i];
    }
    job.shape = {in, total_out, compute, onednn::LinearActivation::kNone, bias};
    job.layout = onednn::WeightLayout::kOutIn;
    job.target = target;
    plan.linears.push_back(std::move(job));
    return absl::OkStatus();
  };

  ASSIGN_OR_RETURN(TensorView embed, tensor("model.embed_tokens.weight", {v, h}));
  weights.embedding_dtype = compute;
  plan.copies.push_back({embed, compute, &weights.token_embedding});
  RETURN_IF_ERROR(SizeLayers(checkpoint, "model.layers.", ".input_layernorm.weight",
                             "num_hidden_layers", config.num_layers, weights.layers));
  for (int64_t i = 0; i < config.num_layers; ++i) {
    DecoderLayerWeights& layer = weights.layers[static_cast<size_t>(i)];
    const std::string base = absl::StrCat("model.layers.", i);
    RETURN_IF_ERROR(norm(base + ".input_layernorm.weight", layer.attn_norm));
    const std::string attn = base + ".self_attn.";
    RETURN_IF_ERROR(linear({attn + "q_proj", attn + "k_proj", attn + "v_proj"},
                           {q_out, kv_out, kv_out}, h, config.attention_qkv_bias, &layer.qkv));
    RETURN_IF_ERROR(
        linear({attn + "o_proj"}, {h}, q_out, config.attention_output_bias, &layer.attn_out));
    RETURN_IF_ERROR(norm(base + ".post_attention_layernorm.weight", layer.mlp_norm));
    const std::string mlp = base + ".mlp.";
    RETURN_IF_ERROR(linear({mlp + "gate_proj", mlp + "up_proj"}, {inner, inner}, h, config.mlp_bias,
                           &layer.mlp_in));
    RETURN_IF_ERROR(linear({mlp + "down_proj"}, {h}, inner, config.mlp_bias, &layer.mlp_out));
  }
  RETURN_IF_ERROR(norm("model.norm.weight", weights.final_norm));
  if (config.tie_word_embeddings) {
    plan.linears.push_back({{h, v, compute, onednn::LinearActivation::kNone, false},
                            {embed},
                            onednn::WeightLayout::kOutIn,
                            {},
                            &weights.lm_head});
    if (checkpoint.Contains("lm_head.weight")) used.push_back("lm_head.weight");
  } else {
    RETURN_IF_ERROR(linear({"lm_head"}, {v}, h, false, &weights.lm_head));
  }
  return plan;
}

}  // namespace ember
