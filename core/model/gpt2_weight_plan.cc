// GPT-2 (GPT2LMHeadModel) tensors. Projections are Conv1D modules, stored [in, out] (the transpose
// of nn.Linear); c_attn already holds q|k|v side by side.
#include "absl/strings/str_cat.h"
#include "core/model/decoder_weight_plans.h"
#include "core/util/status_macros.h"

namespace ember {

absl::StatusOr<WeightPlan> PlanGpt2Weights(const ModelConfig& config, const Checkpoint& checkpoint,
                                           DType compute, DecoderWeights& weights,
                                           std::vector<std::string>& used) {
  // Checkpoints saved from GPT2LMHeadModel prefix every name with "transformer."; the official
  // gpt2 files (saved from GPT2Model) do not.
  const std::string prefix = checkpoint.Contains("transformer.wte.weight") ? "transformer." : "";
  const int64_t h = config.hidden_size, v = config.vocab_size, inner = config.intermediate_size;
  WeightPlan plan;
  auto tensor = [&](const std::string& name, const Shape& shape) -> absl::StatusOr<TensorView> {
    used.push_back(name);
    return ExpectTensor(checkpoint, name, shape);
  };
  auto copy = [&](const std::string& name, const Shape& shape, DType store,
                  const void** target) -> absl::Status {
    ASSIGN_OR_RETURN(TensorView view, tensor(name, shape));
    plan.copies.push_back({view, store, target});
    return absl::OkStatus();
  };
  auto norm = [&](const std::string& base, NormWeights& out) -> absl::Status {
    RETURN_IF_ERROR(
        copy(base + ".weight", {h}, DType::kF32, reinterpret_cast<const void**>(&out.gamma)));
    return copy(base + ".bias", {h}, DType::kF32, reinterpret_cast<const void**>(&out.beta));
  };
  auto conv1d = [&](const std::string& base, int64_t in, int64_t out, onednn::LinearActivation act,
                    std::unique_ptr<LinearLayer>* target) -> absl::Status {
    ASSIGN_OR_RETURN(TensorView w, tensor(base + ".weight", {in, out}));
    ASSIGN_OR_RETURN(TensorView b, tensor(base + ".bias", {out}));
    plan.linears.push_back(
        {{in, out, compute, act, true}, {w}, onednn::WeightLayout::kInOut, {b}, target});
    return absl::OkStatus();
  };

  weights.embedding_dtype = compute;
  RETURN_IF_ERROR(copy(prefix + "wte.weight", {v, h}, compute, &weights.token_embedding));
  RETURN_IF_ERROR(copy(prefix + "wpe.weight", {config.max_position_embeddings, h}, DType::kF32,
                       reinterpret_cast<const void**>(&weights.position_embedding)));
  RETURN_IF_ERROR(SizeLayers(checkpoint, prefix + "h.", ".ln_1.weight", "n_layer",
                             config.num_layers, weights.layers));
  for (int64_t i = 0; i < config.num_layers; ++i) {
    DecoderLayerWeights& layer = weights.layers[static_cast<size_t>(i)];
    const std::string base = absl::StrCat(prefix, "h.", i);
    RETURN_IF_ERROR(norm(base + ".ln_1", layer.attn_norm));
    RETURN_IF_ERROR(
        conv1d(base + ".attn.c_attn", h, 3 * h, onednn::LinearActivation::kNone, &layer.qkv));
    RETURN_IF_ERROR(
        conv1d(base + ".attn.c_proj", h, h, onednn::LinearActivation::kNone, &layer.attn_out));
    RETURN_IF_ERROR(norm(base + ".ln_2", layer.mlp_norm));
    RETURN_IF_ERROR(
        conv1d(base + ".mlp.c_fc", h, inner, ToLinearActivation(config.activation), &layer.mlp_in));
    RETURN_IF_ERROR(
        conv1d(base + ".mlp.c_proj", inner, h, onednn::LinearActivation::kNone, &layer.mlp_out));
  }
  RETURN_IF_ERROR(norm(prefix + "ln_f", weights.final_norm));
  const std::string head_name = config.tie_word_embeddings || !checkpoint.Contains("lm_head.weight")
                                    ? prefix + "wte.weight"
                                    : "lm_head.weight";
  if (!config.tie_word_embeddings && head_name != "lm_head.weight") {
    return absl::NotFoundError(absl::StrCat(checkpoint.dir(),
                                            ": tie_word_embeddings is false but the checkpoint "
                                            "has no tensor \"lm_head.weight\""));
  }
  ASSIGN_OR_RETURN(TensorView head, tensor(head_name, {v, h}));
  plan.linears.push_back({{h, v, compute, onednn::LinearActivation::kNone, false},
                          {head},
                          onednn::WeightLayout::kOutIn,
                          {},
                          &weights.lm_head});
  return plan;
}

}  // namespace ember
