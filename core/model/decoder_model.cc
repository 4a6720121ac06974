#include "core/model/decoder_model.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/kernels/activation.h"
#include "core/kernels/convert.h"
#include "core/kernels/norm.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/onednn/matmul_attention.h"
#include "core/kernels/paged_attention.h"
#include "core/model/decoder_weight_plans.h"
#include "core/model/padded_rows.h"
#include "core/model/rope_frequencies.h"
#include "core/util/status_macros.h"
#include "core/util/system_memory.h"

namespace ember {
namespace {

// The rotary table holds cos and sin for every position of the context: max_context * head_dim
// floats, allocated at load. A context whose table alone exceeds physical memory cannot be served;
// it is refused before anything is read, instead of failing (or swapping) in the allocation.
absl::Status CheckRopeTableFits(const std::string& model_dir, const ModelConfig& config,
                                int64_t max_context) {
  if (config.architecture != Architecture::kLlama) return absl::OkStatus();
  const std::optional<int64_t> physical = PhysicalMemoryBytes();
  if (!physical.has_value()) return absl::OkStatus();
  const double memory = static_cast<double>(*physical);
  // In double: head_dim and max_context are each < 2^63 but their product need not be.
  const double table = static_cast<double>(max_context) * static_cast<double>(config.head_dim) *
                       static_cast<double>(sizeof(float));
  if (table <= memory) return absl::OkStatus();
  constexpr double kGiB = 1 << 30;
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s/config.json: a context of %d positions (field 'max_position_embeddings') with head_dim "
      "%d needs a rotary table of %.1f GiB, more than this machine's %.1f GiB of memory; serve a "
      "shorter context (EngineOptions::max_context)",
      model_dir, max_context, config.head_dim, table / kGiB, memory / kGiB));
}

StepWidths DecoderStepWidths(const ModelConfig& c) {
  StepWidths w;
  w.hidden = c.hidden_size;
  w.projected = (c.num_heads + 2 * c.num_kv_heads) * c.head_dim;  // q|k|v
  w.attention = c.num_heads * c.head_dim;
  // Llama's gate|up is one projection, SiluMul'd into `activated`.
  w.mlp = c.architecture == Architecture::kLlama ? 2 * c.intermediate_size : c.intermediate_size;
  w.activated = c.intermediate_size;
  return w;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DecoderModel>> DecoderModel::Load(
    const std::string& model_dir, const DecoderModelOptions& options) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(model_dir));
  if (config.architecture == Architecture::kMarian) {
    return absl::InvalidArgumentError(absl::StrCat(
        model_dir, "/config.json: model_type marian is an encoder-decoder model (use LoadModel)"));
  }
  ASSIGN_OR_RETURN(const DType compute, ResolveComputeType(options));
  const int64_t max_context = ServedContext(config, options);
  RETURN_IF_ERROR(CheckRopeTableFits(model_dir, config, max_context));
  DecoderWeights weights;
  weights.compute = compute;
  RETURN_IF_ERROR(LoadWeights(
      model_dir,
      [&](const Checkpoint& checkpoint, std::vector<std::string>& used) {
        return config.architecture == Architecture::kGpt2
                   ? PlanGpt2Weights(config, checkpoint, compute, weights, used)
                   : PlanLlamaWeights(config, checkpoint, compute, weights, used);
      },
      {options.quantize, &weights.lm_head, options.quantize_lm_head}, weights.arena));
  return std::unique_ptr<DecoderModel>(new DecoderModel(config, std::move(weights), max_context,
                                                        WeightFormatName(options, compute)));
}

DecoderModel::DecoderModel(const ModelConfig& config, DecoderWeights weights, int64_t max_context,
                           std::string weight_format)
    : ModelBase(config, weights.compute, max_context, DecoderStepWidths(config),
                std::move(weight_format)),
      weights_(std::move(weights)) {
  if (config_.architecture == Architecture::kLlama) {
    rope_ = std::make_unique<RopeTable>(RopeInverseFrequencies(config_), max_context_);
  }
}

absl::Status DecoderModel::PrepareShapes(int64_t max_rows, int64_t max_logit_rows) {
  RETURN_IF_ERROR(PrepareLogitRows(max_rows, max_logit_rows, *weights_.lm_head));
  scratch().Reserve(onednn::Linear::RowClass(max_rows));
  RETURN_IF_ERROR(PrepareProjections(LayerProjections(), max_rows));
  return onednn::PrepareMatmulAttention(compute_, config_.head_dim,
                                        config_.num_heads / config_.num_kv_heads, max_context_);
}

int64_t DecoderModel::primitives_created() const {
  return weights_.lm_head->primitives_created() + PrimitivesCreated(LayerProjections());
}

std::vector<ModelBase::Projection> DecoderModel::LayerProjections() const {
  std::vector<Projection> all;
  for (const DecoderLayerWeights& layer : weights_.layers) {
    all.insert(all.end(), {{layer.qkv.get(), false},
                           {layer.attn_out.get(), true},
                           {layer.mlp_in.get(), false},
                           {layer.mlp_out.get(), true}});
  }
  return all;
}

absl::StatusOr<int64_t> DecoderModel::Validate(absl::Span<const SequenceStep> steps,
                                               const KvCache& cache) const {
  int64_t rows = 0;
  for (const SequenceStep& s : steps) {
    ASSIGN_OR_RETURN(const int64_t end, CheckPositions(s));
    const int64_t blocks_needed = KvCache::BlocksFor(end, cache.block_size());
    if (static_cast<int64_t>(s.block_table.size()) < blocks_needed) {
      return absl::InvalidArgumentError(absl::StrCat("block table has ", s.block_table.size(),
                                                     " blocks, ", blocks_needed, " needed"));
    }
    RETURN_IF_ERROR(CheckTokenIds(s.tokens));
    rows += static_cast<int64_t>(s.tokens.size());
  }
  return rows;
}

void DecoderModel::Embed(int64_t rows) {
  GatherEmbeddings(weights_.token_embedding, weights_.embedding_dtype, rows);
  if (weights_.position_embedding == nullptr) return;  // Llama: positions are rotary
  const int64_t h = config_.hidden_size;
  float* x = scratch().residual();
  const int32_t* positions = scratch().positions();
  for (int64_t row = 0; row < rows; ++row) {
    const float* pos = weights_.position_embedding + positions[row] * h;
    for (int64_t j = 0; j < h; ++j) x[row * h + j] += pos[j];
  }
}

absl::Status DecoderModel::Forward(absl::Span<const SequenceStep> steps, KvCache& cache,
                                   float* logits, ForwardProfile* profile) {
  ScopedStepTimer step_timer(profile);
  const ModelConfig& c = config_;
  ScopedOpTimer setup(profile, ForwardOp::kSetup);
  ASSIGN_OR_RETURN(const int64_t rows, Validate(steps, cache));
  // Projections run on `padded` rows (the rows past `rows` are scratch no one reads), so a step
  // uses a primitive PrepareShapes made rather than compiling one for its exact size.
  const int64_t padded = onednn::Linear::RowClass(rows);
  StepScratch& buffers = scratch();
  buffers.Reserve(padded);
  const std::vector<AttentionSequence> attn_seqs = LayOutRows(steps);
  setup.Stop();
  {
    ScopedOpTimer timer(profile, ForwardOp::kEmbed);
    Embed(rows);
  }

  const DType compute = compute_;
  const bool rms = c.norm == NormKind::kRmsNorm;
  const int64_t h = c.hidden_size, hd = c.head_dim;
  const int64_t q_width = c.num_heads * hd, kv_width = c.num_kv_heads * hd;
  const int64_t qkv_width = q_width + 2 * kv_width;
  const float eps = static_cast<float>(c.norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  float* x = buffers.residual();
  float* qkv = buffers.projected();  // [padded, q|k|v] f32
  void* normed = buffers.normed();
  void* attention = buffers.attention();
  const int32_t* positions = buffers.positions();
  auto norm = [&](const NormWeights& w, const float* in, int64_t m, void* out) {
    if (rms) {
      RmsNormRows(in, m, h, w.gamma, eps, compute, out);
    } else {
      LayerNormRows(in, m, h, w.gamma, w.beta, eps, compute, out);
    }
  };

  for (int64_t l = 0; l < c.num_layers; ++l) {
    DecoderLayerWeights& layer = weights_.layers[static_cast<size_t>(l)];
    const KvLayerView kv = cache.layer(l);
    {
      ScopedOpTimer timer(profile, ForwardOp::kNorm);
      norm(layer.attn_norm, x, rows, normed);
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kQkv);
      RETURN_IF_ERROR(layer.qkv->Forward(normed, padded, qkv));
    }
    if (rope_ != nullptr) {
      ScopedOpTimer timer(profile, ForwardOp::kRope);
      ApplyRope(qkv, rows, qkv_width, c.num_heads, positions, *rope_);
      ApplyRope(qkv + q_width, rows, qkv_width, c.num_kv_heads, positions, *rope_);
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kStoreKv);
      StoreKv(qkv + q_width, qkv + q_width + kv_width, qkv_width, attn_seqs, kv);
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kAttention);
      RETURN_IF_ERROR(PagedAttention(qkv, qkv_width, c.num_heads, attn_seqs, kv, scale, compute,
                                     attention, q_width));
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kAttnOut);
      RETURN_IF_ERROR(layer.attn_out->Forward(attention, padded, x, /*accumulate=*/true));
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kNorm);
      norm(layer.mlp_norm, x, rows, normed);
    }
    float* mlp = buffers.mlp();
    {
      ScopedOpTimer timer(profile, ForwardOp::kMlpIn);
      RETURN_IF_ERROR(layer.mlp_in->Forward(normed, padded, mlp));
    }
    const void* activated = mlp;
    if (c.architecture == Architecture::kLlama) {
      ScopedOpTimer timer(profile, ForwardOp::kActivation);
      SiluMul(mlp, rows, c.intermediate_size, compute, buffers.activated());
      activated = buffers.activated();
    } else if (compute == DType::kBF16) {
      ScopedOpTimer timer(profile, ForwardOp::kActivation);
      F32ToBf16(mlp, rows * c.intermediate_size, static_cast<uint16_t*>(buffers.activated()));
      activated = buffers.activated();
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kMlpOut);
      RETURN_IF_ERROR(layer.mlp_out->Forward(activated, padded, x, /*accumulate=*/true));
    }
  }

  // Final norm and LM head only for the rows that need logits: every row of a scored prompt
  // (handed to its sink a slice at a time), the last token of each step wanting logits.
  ScopedOpTimer timer(profile, ForwardOp::kLmHead);
  RETURN_IF_ERROR(ScoreRows(
      steps, x,
      [&](const float* in, int64_t m, void* out) { norm(weights_.final_norm, in, m, out); }, normed,
      *weights_.lm_head));
  float* last_rows = buffers.mlp();  // reused: [wanted, hidden] f32
  const int64_t wanted = GatherLogitRows(steps, last_rows);
  if (wanted == 0) return absl::OkStatus();
  norm(weights_.final_norm, last_rows, wanted, normed);
  return ForwardPaddedRows(*weights_.lm_head, normed, wanted, logits, buffers.logits());
}

}  // namespace ember
