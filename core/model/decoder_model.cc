#include "core/model/decoder_model.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/kernels/activation.h"
#include "core/kernels/convert.h"
#include "core/kernels/cpu_features.h"
#include "core/kernels/norm.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/onednn/matmul_attention.h"
#include "core/kernels/paged_attention.h"
#include "core/model/checkpoint.h"
#include "core/model/decoder_weight_plans.h"
#include "core/model/padded_rows.h"
#include "core/model/rope_frequencies.h"
#include "core/tensor/half.h"
#include "core/util/logging.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

size_t ElementBytes(DType type) { return DTypeSize(type); }

// The rotary table holds cos and sin for every position of the context: max_context * head_dim
// floats, allocated at load. A context whose table alone exceeds physical memory cannot be served;
// it is refused before anything is read, instead of failing (or swapping) in the allocation.
absl::Status CheckRopeTableFits(const std::string& model_dir, const ModelConfig& config,
                                int64_t max_context) {
  if (config.architecture != Architecture::kLlama) return absl::OkStatus();
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return absl::OkStatus();
  const double memory = static_cast<double>(pages) * static_cast<double>(page_size);
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

}  // namespace

absl::StatusOr<std::unique_ptr<DecoderModel>> DecoderModel::Load(
    const std::string& model_dir, const DecoderModelOptions& options) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(model_dir));
  if (config.architecture == Architecture::kMarian) {
    return absl::InvalidArgumentError(absl::StrCat(
        model_dir, "/config.json: model_type marian is an encoder-decoder model (use LoadModel)"));
  }
  ASSIGN_OR_RETURN(const DType compute, ResolveComputeType(options));
  int64_t max_context = config.max_context;
  if (options.max_context > 0) max_context = std::min(max_context, options.max_context);
  RETURN_IF_ERROR(CheckRopeTableFits(model_dir, config, max_context));

  ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint, Checkpoint::Open(model_dir));
  DecoderWeights weights;
  weights.compute = compute;
  std::vector<std::string> used;
  absl::StatusOr<WeightPlan> plan =
      config.architecture == Architecture::kGpt2
          ? PlanGpt2Weights(config, *checkpoint, compute, weights, used)
          : PlanLlamaWeights(config, *checkpoint, compute, weights, used);
  if (!plan.ok()) return plan.status();
  RETURN_IF_ERROR(LoadPlannedWeights(*checkpoint, used, *plan, weights.arena));
  // The checkpoint is unmapped here: from now on only the packed arena is resident.
  checkpoint.reset();
  auto model = std::unique_ptr<DecoderModel>(
      new DecoderModel(std::move(config), std::move(weights), max_context));
  return model;
}

DecoderModel::DecoderModel(ModelConfig config, DecoderWeights weights, int64_t max_context)
    : config_(std::move(config)), weights_(std::move(weights)), max_context_(max_context) {
  if (config_.architecture == Architecture::kLlama) {
    rope_ = std::make_unique<RopeTable>(RopeInverseFrequencies(config_), max_context_);
  }
}

void DecoderModel::Reserve(int64_t rows) {
  if (rows <= reserved_rows_) return;
  rows = std::max(rows, 2 * reserved_rows_);
  const ModelConfig& c = config_;
  const size_t r = static_cast<size_t>(rows);
  const size_t compute = ElementBytes(weights_.compute);
  const int64_t qkv_width = (c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  const int64_t mlp_width =
      c.architecture == Architecture::kLlama ? 2 * c.intermediate_size : c.intermediate_size;
  tokens_.resize(r);
  positions_.resize(r);
  residual_ = AlignedBuffer(r * static_cast<size_t>(c.hidden_size) * sizeof(float));
  normed_ = AlignedBuffer(r * static_cast<size_t>(std::max(c.hidden_size, c.vocab_size)) * 4);
  qkv_ = AlignedBuffer(r * static_cast<size_t>(qkv_width) * sizeof(float));
  attention_ = AlignedBuffer(r * static_cast<size_t>(c.num_heads * c.head_dim) * compute);
  mlp_ = AlignedBuffer(r * static_cast<size_t>(mlp_width) * sizeof(float));
  activated_ = AlignedBuffer(r * static_cast<size_t>(c.intermediate_size) * compute);
  for (AlignedBuffer* b : {&residual_, &normed_, &qkv_, &attention_, &mlp_, &activated_}) {
    std::memset(b->data(), 0, b->size());
  }
  reserved_rows_ = rows;
}

absl::Status DecoderModel::PrepareShapes(int64_t max_rows, int64_t max_logit_rows) {
  if (max_rows <= 0 || max_logit_rows <= 0 || max_logit_rows > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat("PrepareShapes: need 0 < max_logit_rows (",
                                                   max_logit_rows, ") <= max_rows (", max_rows,
                                                   ")"));
  }
  Reserve(onednn::Linear::RowClass(max_rows));
  for (int64_t m : onednn::Linear::RowClassesUpTo(max_rows)) {
    for (DecoderLayerWeights& layer : weights_.layers) {
      RETURN_IF_ERROR(layer.qkv->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.attn_out->Prepare(m, /*accumulate=*/true));
      RETURN_IF_ERROR(layer.mlp_in->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.mlp_out->Prepare(m, /*accumulate=*/true));
    }
  }
  for (int64_t m : onednn::Linear::RowClassesUpTo(max_logit_rows)) {
    RETURN_IF_ERROR(weights_.lm_head->Prepare(m, /*accumulate=*/false));
  }
  RETURN_IF_ERROR(onednn::PrepareMatmulAttention(
      weights_.compute, config_.head_dim, config_.num_heads / config_.num_kv_heads, max_context_));
  const int64_t logit_rows = onednn::Linear::RowClass(max_logit_rows);
  lm_scratch_ = AlignedBuffer(static_cast<size_t>(logit_rows * config_.vocab_size) * sizeof(float));
  return absl::OkStatus();
}

int64_t DecoderModel::primitives_created() const {
  int64_t n = weights_.lm_head->primitives_created();
  for (const DecoderLayerWeights& layer : weights_.layers) {
    n += layer.qkv->primitives_created() + layer.attn_out->primitives_created() +
         layer.mlp_in->primitives_created() + layer.mlp_out->primitives_created();
  }
  return n;
}

void DecoderModel::Embed(absl::Span<const SequenceStep> steps) {
  const int64_t h = config_.hidden_size;
  float* x = residual_.as<float>();
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    for (size_t i = 0; i < s.tokens.size(); ++i, ++row) {
      const int64_t token = s.tokens[i];
      float* dst = x + row * h;
      if (weights_.embedding_dtype == DType::kBF16) {
        const uint16_t* src = static_cast<const uint16_t*>(weights_.token_embedding) + token * h;
        for (int64_t j = 0; j < h; ++j) dst[j] = Bf16ToFloat(src[j]);
      } else {
        std::memcpy(dst, static_cast<const float*>(weights_.token_embedding) + token * h,
                    static_cast<size_t>(h) * sizeof(float));
      }
      if (weights_.position_embedding != nullptr) {
        const float* pos = weights_.position_embedding + positions_[row] * h;
        for (int64_t j = 0; j < h; ++j) dst[j] += pos[j];
      }
    }
  }
}

absl::Status DecoderModel::Forward(absl::Span<const SequenceStep> steps, KvCache& cache,
                                   float* logits, ForwardProfile* profile) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = ForwardSteps(steps, cache, logits, profile);
  if (profile != nullptr) {
    profile->total_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++profile->steps;
  }
  return status;
}

absl::Status DecoderModel::ForwardSteps(absl::Span<const SequenceStep> steps, KvCache& cache,
                                        float* logits, ForwardProfile* profile) {
  const ModelConfig& c = config_;
  ScopedOpTimer setup(profile, ForwardOp::kSetup);
  int64_t rows = 0;
  for (const SequenceStep& s : steps) {
    if (s.tokens.empty()) return absl::InvalidArgumentError("forward step with no tokens");
    const int64_t end = s.past + static_cast<int64_t>(s.tokens.size());
    if (end > max_context_) {
      return absl::InvalidArgumentError(
          absl::StrCat("sequence reaches position ", end, ", past the context of ", max_context_));
    }
    const int64_t blocks_needed = (end + cache.block_size() - 1) / cache.block_size();
    if (static_cast<int64_t>(s.block_table.size()) < blocks_needed) {
      return absl::InvalidArgumentError(absl::StrCat("block table has ", s.block_table.size(),
                                                     " blocks, ", blocks_needed, " needed"));
    }
    for (int32_t t : s.tokens) {
      if (t < 0 || t >= c.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", t, " is outside the vocabulary [0, ", c.vocab_size, ")"));
      }
    }
    rows += static_cast<int64_t>(s.tokens.size());
  }
  // Projections run on `padded` rows (the rows past `rows` are scratch no one reads), so a step
  // uses a primitive PrepareShapes made rather than compiling one for its exact size.
  const int64_t padded = onednn::Linear::RowClass(rows);
  Reserve(padded);
  std::vector<AttentionSequence> attn_seqs;
  attn_seqs.reserve(steps.size());
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    AttentionSequence a;
    a.first_row = row;
    a.num_rows = static_cast<int64_t>(s.tokens.size());
    a.past = s.past;
    a.block_table = s.block_table.data();
    attn_seqs.push_back(a);
    for (size_t i = 0; i < s.tokens.size(); ++i, ++row) {
      tokens_[row] = s.tokens[i];
      positions_[row] = static_cast<int32_t>(s.past + static_cast<int64_t>(i));
    }
  }
  setup.Stop();
  {
    ScopedOpTimer timer(profile, ForwardOp::kEmbed);
    Embed(steps);
  }

  const DType compute = weights_.compute;
  const bool rms = c.norm == NormKind::kRmsNorm;
  const int64_t h = c.hidden_size, hd = c.head_dim;
  const int64_t q_width = c.num_heads * hd, kv_width = c.num_kv_heads * hd;
  const int64_t qkv_width = q_width + 2 * kv_width;
  const float eps = static_cast<float>(c.norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  float* x = residual_.as<float>();
  float* qkv = qkv_.as<float>();
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
      norm(layer.attn_norm, x, rows, normed_.data());
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kQkv);
      RETURN_IF_ERROR(layer.qkv->Forward(normed_.data(), padded, qkv));
    }
    if (rope_ != nullptr) {
      ScopedOpTimer timer(profile, ForwardOp::kRope);
      ApplyRope(qkv, rows, qkv_width, c.num_heads, positions_.data(), *rope_);
      ApplyRope(qkv + q_width, rows, qkv_width, c.num_kv_heads, positions_.data(), *rope_);
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kStoreKv);
      StoreKv(qkv + q_width, qkv + q_width + kv_width, qkv_width, attn_seqs, kv);
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kAttention);
      RETURN_IF_ERROR(PagedAttention(qkv, qkv_width, c.num_heads, attn_seqs, kv, scale, compute,
                                     attention_.data(), q_width));
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kAttnOut);
      RETURN_IF_ERROR(layer.attn_out->Forward(attention_.data(), padded, x, /*accumulate=*/true));
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kNorm);
      norm(layer.mlp_norm, x, rows, normed_.data());
    }
    float* mlp = mlp_.as<float>();
    {
      ScopedOpTimer timer(profile, ForwardOp::kMlpIn);
      RETURN_IF_ERROR(layer.mlp_in->Forward(normed_.data(), padded, mlp));
    }
    const void* activated = mlp;
    if (c.architecture == Architecture::kLlama) {
      ScopedOpTimer timer(profile, ForwardOp::kActivation);
      SiluMul(mlp, rows, c.intermediate_size, compute, activated_.data());
      activated = activated_.data();
    } else if (compute == DType::kBF16) {
      ScopedOpTimer timer(profile, ForwardOp::kActivation);
      F32ToBf16(mlp, rows * c.intermediate_size, activated_.as<uint16_t>());
      activated = activated_.data();
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kMlpOut);
      RETURN_IF_ERROR(layer.mlp_out->Forward(activated, padded, x, /*accumulate=*/true));
    }
  }

  // Final norm and LM head only for the rows that need logits (the last token of each such step).
  ScopedOpTimer timer(profile, ForwardOp::kLmHead);
  int64_t wanted = 0;
  row = 0;
  float* last_rows = mlp_.as<float>();  // reused: [wanted, hidden] f32
  for (const SequenceStep& s : steps) {
    row += static_cast<int64_t>(s.tokens.size());
    if (!s.want_logits) continue;
    std::memcpy(last_rows + wanted * h, x + (row - 1) * h, static_cast<size_t>(h) * sizeof(float));
    ++wanted;
  }
  if (wanted == 0) return absl::OkStatus();
  norm(weights_.final_norm, last_rows, wanted, normed_.data());
  return ForwardPaddedRows(*weights_.lm_head, normed_.data(), wanted, logits, lm_scratch_);
}

}  // namespace ember
