// MarianMTModel (transformers' modeling_marian.py) tensors: nn.Linear projections stored [out, in],
// every projection with a bias, LayerNorms with weight and bias.
#include "core/model/marian_weight_plan.h"

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

// Builds the jobs of one plan; `used` collects the names read.
class MarianPlanner {
 public:
  MarianPlanner(const ModelConfig& config, const Checkpoint& checkpoint, DType compute,
                std::vector<std::string>& used)
      : e_(config.hidden_size), checkpoint_(checkpoint), compute_(compute), used_(used) {}

  absl::StatusOr<TensorView> Tensor(const std::string& name, const Shape& shape) {
    used_.push_back(name);
    return ExpectTensor(checkpoint_, name, shape);
  }

  absl::Status Norm(const std::string& base, NormWeights& out) {
    ASSIGN_OR_RETURN(TensorView gamma, Tensor(base + ".weight", {e_}));
    ASSIGN_OR_RETURN(TensorView beta, Tensor(base + ".bias", {e_}));
    plan_.copies.push_back({gamma, DType::kF32, reinterpret_cast<const void**>(&out.gamma)});
    plan_.copies.push_back({beta, DType::kF32, reinterpret_cast<const void**>(&out.beta)});
    return absl::OkStatus();
  }

  // A Linear over the stacked [out_i, in] parts "<base>.weight" with biases "<base>.bias".
  absl::Status Linear(const std::vector<std::string>& bases, int64_t out_each, int64_t in,
                      onednn::LinearActivation activation, std::unique_ptr<LinearLayer>* target) {
    LinearJob job;
    for (const std::string& base : bases) {
      ASSIGN_OR_RETURN(TensorView w, Tensor(base + ".weight", {out_each, in}));
      ASSIGN_OR_RETURN(TensorView b, Tensor(base + ".bias", {out_each}));
      job.parts.push_back(w);
      job.bias_parts.push_back(b);
    }
    job.shape = {in, out_each * static_cast<int64_t>(bases.size()), compute_, activation, true};
    job.layout = onednn::WeightLayout::kOutIn;
    job.target = target;
    plan_.linears.push_back(std::move(job));
    return absl::OkStatus();
  }

  WeightPlan& plan() { return plan_; }

 private:
  const int64_t e_;
  const Checkpoint& checkpoint_;
  const DType compute_;
  std::vector<std::string>& used_;
  WeightPlan plan_;
};

// The first of `names` the checkpoint holds (tied tensors are saved under one of their names),
// or NOT_FOUND listing them all.
absl::StatusOr<std::string> FirstPresent(const Checkpoint& checkpoint,
                                         const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (checkpoint.Contains(name)) return name;
  }
  std::string list;
  for (const std::string& name : names) absl::StrAppend(&list, list.empty() ? "" : ", ", name);
  return absl::NotFoundError(
      absl::StrCat(checkpoint.dir(), ": no embedding tensor; expected one of ", list));
}

}  // namespace

absl::StatusOr<WeightPlan> PlanMarianWeights(const ModelConfig& config,
                                             const Checkpoint& checkpoint, DType compute,
                                             MarianWeights& weights,
                                             std::vector<std::string>& used) {
  const EncoderDecoderConfig& ed = *config.encoder_decoder;
  const int64_t e = config.hidden_size, v = config.vocab_size;
  const onednn::LinearActivation act = ToLinearActivation(config.activation);
  const auto none = onednn::LinearActivation::kNone;
  MarianPlanner p(config, checkpoint, compute, used);
  weights.compute = compute;

  // Embeddings: with shared embeddings any of the three tied names may be the one saved.
  std::string encoder_name, decoder_name;
  if (ed.share_embeddings) {
    ASSIGN_OR_RETURN(encoder_name, FirstPresent(checkpoint, {"model.shared.weight",
                                                             "model.encoder.embed_tokens.weight",
                                                             "model.decoder.embed_tokens.weight"}));
    decoder_name = encoder_name;
  } else {
    encoder_name = "model.encoder.embed_tokens.weight";
    decoder_name = "model.decoder.embed_tokens.weight";
  }
  ASSIGN_OR_RETURN(TensorView encoder_embed, p.Tensor(encoder_name, {v, e}));
  ASSIGN_OR_RETURN(TensorView decoder_embed, p.Tensor(decoder_name, {v, e}));
  p.plan().copies.push_back({encoder_embed, compute, &weights.encoder_embedding});
  if (ed.share_embeddings) {
    for (const char* alias : {"model.shared.weight", "model.encoder.embed_tokens.weight",
                              "model.decoder.embed_tokens.weight"}) {
      if (checkpoint.Contains(alias)) used.push_back(alias);
    }
  } else {
    p.plan().copies.push_back({decoder_embed, compute, &weights.decoder_embedding});
  }

  RETURN_IF_ERROR(SizeLayers(checkpoint, "model.encoder.layers.", ".fc1.weight", "encoder_layers",
                             ed.encoder_layers, weights.encoder_layers));
  RETURN_IF_ERROR(SizeLayers(checkpoint, "model.decoder.layers.", ".fc1.weight", "decoder_layers",
                             config.num_layers, weights.decoder_layers));
  for (int64_t i = 0; i < ed.encoder_layers; ++i) {
    MarianEncoderLayerWeights& layer = weights.encoder_layers[static_cast<size_t>(i)];
    const std::string base = absl::StrCat("model.encoder.layers.", i, ".");
    const std::string attn = base + "self_attn.";
    RETURN_IF_ERROR(
        p.Linear({attn + "q_proj", attn + "k_proj", attn + "v_proj"}, e, e, none, &layer.qkv));
    RETURN_IF_ERROR(p.Linear({attn + "out_proj"}, e, e, none, &layer.attn_out));
    RETURN_IF_ERROR(p.Norm(base + "self_attn_layer_norm", layer.attn_norm));
    RETURN_IF_ERROR(p.Linear({base + "fc1"}, ed.encoder_ffn_dim, e, act, &layer.fc1));
    RETURN_IF_ERROR(p.Linear({base + "fc2"}, e, ed.encoder_ffn_dim, none, &layer.fc2));
    RETURN_IF_ERROR(p.Norm(base + "final_layer_norm", layer.mlp_norm));
  }
  for (int64_t i = 0; i < config.num_layers; ++i) {
    MarianDecoderLayerWeights& layer = weights.decoder_layers[static_cast<size_t>(i)];
    const std::string base = absl::StrCat("model.decoder.layers.", i, ".");
    const std::string self = base + "self_attn.";
    const std::string cross = base + "encoder_attn.";
    RETURN_IF_ERROR(
        p.Linear({self + "q_proj", self + "k_proj", self + "v_proj"}, e, e, none, &layer.self_qkv));
    RETURN_IF_ERROR(p.Linear({self + "out_proj"}, e, e, none, &layer.self_out));
    RETURN_IF_ERROR(p.Norm(base + "self_attn_layer_norm", layer.self_norm));
    RETURN_IF_ERROR(p.Linear({cross + "q_proj"}, e, e, none, &layer.cross_q));
    RETURN_IF_ERROR(p.Linear({cross + "k_proj", cross + "v_proj"}, e, e, none, &layer.cross_kv));
    RETURN_IF_ERROR(p.Linear({cross + "out_proj"}, e, e, none, &layer.cross_out));
    RETURN_IF_ERROR(p.Norm(base + "encoder_attn_layer_norm", layer.cross_norm));
    RETURN_IF_ERROR(p.Linear({base + "fc1"}, config.intermediate_size, e, act, &layer.fc1));
    RETURN_IF_ERROR(p.Linear({base + "fc2"}, e, config.intermediate_size, none, &layer.fc2));
    RETURN_IF_ERROR(p.Norm(base + "final_layer_norm", layer.mlp_norm));
  }
  if (ed.normalize_before) {
    RETURN_IF_ERROR(p.Norm("model.encoder.layer_norm", weights.encoder_final_norm));
    RETURN_IF_ERROR(p.Norm("model.decoder.layer_norm", weights.decoder_final_norm));
  }

  // A buffer transformers zero-fills when a checkpoint lacks it (it is in
  // _keys_to_ignore_on_load_missing): absent means no bias.
  if (checkpoint.Contains("final_logits_bias")) {
    ASSIGN_OR_RETURN(TensorView bias, p.Tensor("final_logits_bias", {1, v}));
    p.plan().copies.push_back(
        {bias, DType::kF32, reinterpret_cast<const void**>(&weights.final_logits_bias)});
  }
  if (config.tie_word_embeddings) {
    p.plan().linears.push_back({{e, v, compute, none, false},
                                {decoder_embed},
                                onednn::WeightLayout::kOutIn,
                                {},
                                &weights.lm_head});
    if (checkpoint.Contains("lm_head.weight")) used.push_back("lm_head.weight");
  } else {
    ASSIGN_OR_RETURN(TensorView head, p.Tensor("lm_head.weight", {v, e}));
    p.plan().linears.push_back(
        {{e, v, compute, none, false}, {head}, onednn::WeightLayout::kOutIn, {}, &weights.lm_head});
  }
  return std::move(p.plan());
}

}  // namespace ember
