#include "core/model/marian_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/kernels/convert.h"
#include "core/kernels/norm.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/onednn/matmul_attention.h"
#include "core/model/checkpoint.h"
#include "core/model/marian_weight_plan.h"
#include "core/model/padded_rows.h"
#include "core/tensor/half.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

// MarianSinusoidalPositionalEmbedding: for position p and i < E/2, angle = p / 10000^(2i/E);
// sin(angle) fills the first half of the row and cos(angle) the second (not interleaved).
// Computed in double, as transformers computes it in numpy float64 before casting.
std::vector<float> Sinusoids(int64_t positions, int64_t dim) {
  std::vector<float> table(static_cast<size_t>(positions * dim));
  const int64_t half = (dim + 1) / 2;  // transformers' "sentinel": odd widths give sin one more
  for (int64_t p = 0; p < positions; ++p) {
    float* row = table.data() + p * dim;
    for (int64_t j = 0; j < dim; ++j) {
      // Column j of the sin half is even index 2j of transformers' table, of the cos half odd
      // index 2(j - half) + 1; either way the exponent is 2 * (index / 2) / dim.
      const int64_t index = j < half ? 2 * j : 2 * (j - half) + 1;
      const double angle =
          static_cast<double>(p) /
          std::pow(10000.0, 2.0 * static_cast<double>(index / 2) / static_cast<double>(dim));
      row[j] = static_cast<float>(j < half ? std::sin(angle) : std::cos(angle));
    }
  }
  return table;
}

int64_t BlocksFor(int64_t positions, int64_t block_size) {
  return (positions + block_size - 1) / block_size;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MarianModel>> MarianModel::Load(const std::string& model_dir,
                                                               const ModelOptions& options) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(model_dir));
  if (config.architecture != Architecture::kMarian || !config.encoder_decoder.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(model_dir, "/config.json: model_type \"",
                                                   config.model_type,
                                                   "\" is not an encoder-decoder (marian) model"));
  }
  ASSIGN_OR_RETURN(const DType compute, ResolveComputeType(options));
  int64_t max_context = config.max_context;
  if (options.max_context > 0) max_context = std::min(max_context, options.max_context);

  ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint, Checkpoint::Open(model_dir));
  MarianWeights weights;
  std::vector<std::string> used;
  ASSIGN_OR_RETURN(WeightPlan plan, PlanMarianWeights(config, *checkpoint, compute, weights, used));
  RETURN_IF_ERROR(LoadPlannedWeights(*checkpoint, used, plan, weights.arena));
  checkpoint.reset();
  if (config.encoder_decoder->share_embeddings) {
    weights.decoder_embedding = weights.encoder_embedding;
  }
  return std::unique_ptr<MarianModel>(
      new MarianModel(std::move(config), std::move(weights), max_context));
}

MarianModel::MarianModel(ModelConfig config, MarianWeights weights, int64_t max_context)
    : config_(std::move(config)),
      seq2seq_(*config_.encoder_decoder),
      weights_(std::move(weights)),
      max_context_(max_context),
      embed_scale_(seq2seq_.scale_embedding
                       ? static_cast<float>(std::sqrt(static_cast<double>(config_.hidden_size)))
                       : 1.0f),
      sinusoids_(Sinusoids(max_context, config_.hidden_size)) {}

void MarianModel::Reserve(int64_t rows) {
  if (rows <= reserved_rows_) return;
  rows = std::max(rows, 2 * reserved_rows_);
  const size_t r = static_cast<size_t>(rows);
  const size_t compute = DTypeSize(weights_.compute);
  const size_t e = static_cast<size_t>(config_.hidden_size);
  const size_t ffn =
      static_cast<size_t>(std::max(config_.intermediate_size, seq2seq_.encoder_ffn_dim));
  tokens_.resize(r);
  positions_.resize(r);
  residual_ = AlignedBuffer(r * e * sizeof(float));
  normed_ = AlignedBuffer(r * e * compute);
  projected_ = AlignedBuffer(r * 3 * e * sizeof(float));
  attention_ = AlignedBuffer(r * e * compute);
  mlp_ = AlignedBuffer(r * ffn * sizeof(float));
  activated_ = AlignedBuffer(r * ffn * compute);
  for (AlignedBuffer* b : {&residual_, &normed_, &projected_, &attention_, &mlp_, &activated_}) {
    std::memset(b->data(), 0, b->size());
  }
  reserved_rows_ = rows;
}

absl::Status MarianModel::PrepareShapes(int64_t max_rows, int64_t max_logit_rows) {
  if (max_rows <= 0 || max_logit_rows <= 0 || max_logit_rows > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat("PrepareShapes: need 0 < max_logit_rows (",
                                                   max_logit_rows, ") <= max_rows (", max_rows,
                                                   ")"));
  }
  const int64_t encoder_rows = std::max(max_rows, max_context_);
  Reserve(onednn::Linear::RowClass(encoder_rows));
  for (int64_t m : onednn::Linear::RowClassesUpTo(encoder_rows)) {
    for (MarianEncoderLayerWeights& layer : weights_.encoder_layers) {
      RETURN_IF_ERROR(layer.qkv->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.attn_out->Prepare(m, /*accumulate=*/true));
      RETURN_IF_ERROR(layer.fc1->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.fc2->Prepare(m, /*accumulate=*/true));
    }
    for (MarianDecoderLayerWeights& layer : weights_.decoder_layers) {
      RETURN_IF_ERROR(layer.cross_kv->Prepare(m, /*accumulate=*/false));
    }
  }
  for (int64_t m : onednn::Linear::RowClassesUpTo(max_rows)) {
    for (MarianDecoderLayerWeights& layer : weights_.decoder_layers) {
      RETURN_IF_ERROR(layer.self_qkv->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.self_out->Prepare(m, /*accumulate=*/true));
      RETURN_IF_ERROR(layer.cross_q->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.cross_out->Prepare(m, /*accumulate=*/true));
      RETURN_IF_ERROR(layer.fc1->Prepare(m, /*accumulate=*/false));
      RETURN_IF_ERROR(layer.fc2->Prepare(m, /*accumulate=*/true));
    }
  }
  for (int64_t m : onednn::Linear::RowClassesUpTo(max_logit_rows)) {
    RETURN_IF_ERROR(weights_.lm_head->Prepare(m, /*accumulate=*/false));
  }
  const int64_t decoder_head_dim = config_.head_dim;
  const int64_t encoder_head_dim = config_.hidden_size / seq2seq_.encoder_heads;
  RETURN_IF_ERROR(
      onednn::PrepareMatmulAttention(weights_.compute, decoder_head_dim, 1, max_context_));
  if (encoder_head_dim != decoder_head_dim) {
    RETURN_IF_ERROR(
        onednn::PrepareMatmulAttention(weights_.compute, encoder_head_dim, 1, max_context_));
  }
  const int64_t logit_rows = onednn::Linear::RowClass(max_logit_rows);
  lm_scratch_ = AlignedBuffer(static_cast<size_t>(logit_rows * config_.vocab_size) * sizeof(float));
  return absl::OkStatus();
}

int64_t MarianModel::primitives_created() const {
  int64_t n = weights_.lm_head->primitives_created();
  for (const MarianEncoderLayerWeights& l : weights_.encoder_layers) {
    n += l.qkv->primitives_created() + l.attn_out->primitives_created() +
         l.fc1->primitives_created() + l.fc2->primitives_created();
  }
  for (const MarianDecoderLayerWeights& l : weights_.decoder_layers) {
    n += l.self_qkv->primitives_created() + l.self_out->primitives_created() +
         l.cross_q->primitives_created() + l.cross_kv->primitives_created() +
         l.cross_out->primitives_created() + l.fc1->primitives_created() +
         l.fc2->primitives_created();
  }
  return n;
}

absl::Status MarianModel::Validate(absl::Span<const SequenceStep> steps,
                                   const KvCache& cache) const {
  const int64_t vocab = config_.vocab_size;
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& s = steps[i];
    if (s.tokens.empty()) return absl::InvalidArgumentError("forward step with no tokens");
    const int64_t end = s.past + static_cast<int64_t>(s.tokens.size());
    if (end > max_context_) {
      return absl::InvalidArgumentError(
          absl::StrCat("sequence reaches position ", end, ", past the context of ", max_context_));
    }
    const int64_t source = static_cast<int64_t>(s.source.size());
    if (source == 0 || source > max_context_) {
      return absl::InvalidArgumentError(absl::StrCat("step ", i, ": the source has ", source,
                                                     " tokens; need 1 to ", max_context_));
    }
    if (static_cast<int64_t>(s.block_table.size()) < BlocksFor(end, cache.block_size()) ||
        static_cast<int64_t>(s.cross_block_table.size()) < BlocksFor(source, cache.block_size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("step ", i, ": block tables of ", s.block_table.size(), " and ",
                       s.cross_block_table.size(), " blocks cannot hold ", end,
                       " positions and a source of ", source));
    }
    for (absl::Span<const int32_t> ids : {s.tokens, s.source}) {
      for (int32_t t : ids) {
        if (t < 0 || t >= vocab) {
          return absl::InvalidArgumentError(
              absl::StrCat("token id ", t, " is outside the vocabulary [0, ", vocab, ")"));
        }
      }
    }
  }
  return absl::OkStatus();
}

void MarianModel::Embed(const void* table, const int32_t* tokens, const int32_t* positions,
                        int64_t rows, int64_t padded) {
  const int64_t e = config_.hidden_size;
  float* x = residual_.as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = x + r * e;
    const int64_t token = tokens[r];
    if (weights_.compute == DType::kBF16) {
      const uint16_t* src = static_cast<const uint16_t*>(table) + token * e;
      for (int64_t j = 0; j < e; ++j) dst[j] = Bf16ToFloat(src[j]);
    } else {
      std::memcpy(dst, static_cast<const float*>(table) + token * e,
                  static_cast<size_t>(e) * sizeof(float));
    }
    const float* pos = sinusoids_.data() + static_cast<int64_t>(positions[r]) * e;
    for (int64_t j = 0; j < e; ++j) dst[j] = dst[j] * embed_scale_ + pos[j];
  }
  std::memset(x + rows * e, 0, static_cast<size_t>((padded - rows) * e) * sizeof(float));
}

const void* MarianModel::SublayerInput(const NormWeights& norm, int64_t rows) {
  const int64_t e = config_.hidden_size;
  const float eps = static_cast<float>(config_.norm_eps);
  if (seq2seq_.normalize_before) {
    LayerNormRows(residual_.as<float>(), rows, e, norm.gamma, norm.beta, eps, weights_.compute,
                  normed_.data());
    return normed_.data();
  }
  if (weights_.compute == DType::kF32) return residual_.data();
  F32ToBf16(residual_.as<float>(), rows * e, normed_.as<uint16_t>());
  return normed_.data();
}

void MarianModel::SublayerOutput(const NormWeights& norm, int64_t rows) {
  if (seq2seq_.normalize_before) return;
  float* x = residual_.as<float>();
  LayerNormRows(x, rows, config_.hidden_size, norm.gamma, norm.beta,
                static_cast<float>(config_.norm_eps), DType::kF32, x);
}

absl::Status MarianModel::FeedForward(onednn::Linear& fc1, onednn::Linear& fc2,
                                      const NormWeights& norm, int64_t rows, int64_t padded,
                                      int64_t ffn_dim) {
  const void* in = SublayerInput(norm, rows);
  float* mlp = mlp_.as<float>();
  RETURN_IF_ERROR(fc1.Forward(in, padded, mlp));
  const void* activated = mlp;
  if (weights_.compute == DType::kBF16) {
    F32ToBf16(mlp, rows * ffn_dim, activated_.as<uint16_t>());
    activated = activated_.data();
  }
  RETURN_IF_ERROR(fc2.Forward(activated, padded, residual_.as<float>(), /*accumulate=*/true));
  SublayerOutput(norm, rows);
  return absl::OkStatus();
}

absl::Status MarianModel::Encode(absl::Span<const SequenceStep> steps, KvCache& cache,
                                 ForwardProfile* profile) {
  const int64_t e = config_.hidden_size;
  const int64_t bs = cache.block_size();
  // The encoder batch: every step starting its decoder (past == 0), rows concatenated. Its
  // self-attention keys and values go to a private pool shaped like one cache layer, where each
  // source takes a run of consecutive blocks.
  std::vector<int32_t> encoder_tables;
  int64_t rows = 0;
  for (const SequenceStep& s : steps) {
    if (s.past != 0) continue;
    const int64_t n = static_cast<int64_t>(s.source.size());
    for (int64_t b = 0; b < BlocksFor(n, bs); ++b) {
      encoder_tables.push_back(static_cast<int32_t>(encoder_tables.size()));
    }
    rows += n;
  }
  if (rows == 0) return absl::OkStatus();
  const int64_t blocks = static_cast<int64_t>(encoder_tables.size());
  std::vector<AttentionSequence> self;   // over the private pool
  std::vector<AttentionSequence> cross;  // the same rows, into each step's cross blocks
  int64_t first_row = 0, first_block = 0;
  for (const SequenceStep& s : steps) {
    if (s.past != 0) continue;
    const int64_t n = static_cast<int64_t>(s.source.size());
    AttentionSequence a;
    a.first_row = first_row;
    a.num_rows = n;
    a.num_keys = n;
    a.block_table = encoder_tables.data() + first_block;
    self.push_back(a);
    a.block_table = s.cross_block_table.data();
    cross.push_back(a);
    first_row += n;
    first_block += BlocksFor(n, bs);
  }
  ScopedOpTimer timer(profile, ForwardOp::kSetup);
  const int64_t padded = onednn::Linear::RowClass(rows);
  Reserve(padded);
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    if (s.past != 0) continue;
    for (size_t i = 0; i < s.source.size(); ++i, ++row) {
      tokens_[static_cast<size_t>(row)] = s.source[i];
      positions_[static_cast<size_t>(row)] = static_cast<int32_t>(i);
    }
  }
  Embed(weights_.encoder_embedding, tokens_.data(), positions_.data(), rows, padded);

  const int64_t heads = seq2seq_.encoder_heads;
  const int64_t head_dim = e / heads;
  const size_t pool =
      static_cast<size_t>(blocks * heads * bs * head_dim) * DTypeSize(weights_.compute);
  if (encoder_kv_.size() < 2 * pool) encoder_kv_ = AlignedBuffer(2 * pool);
  KvLayerView view;
  view.k = encoder_kv_.data();
  view.v = static_cast<char*>(encoder_kv_.data()) + pool;
  view.dtype = weights_.compute;
  view.num_blocks = blocks;
  view.block_size = bs;
  view.num_kv_heads = heads;
  view.head_dim = head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  float* qkv = projected_.as<float>();
  timer.Stop();
  for (MarianEncoderLayerWeights& layer : weights_.encoder_layers) {
    const void* in = SublayerInput(layer.attn_norm, rows);
    RETURN_IF_ERROR(layer.qkv->Forward(in, padded, qkv));
    StoreKv(qkv + e, qkv + 2 * e, 3 * e, self, view);
    RETURN_IF_ERROR(PagedAttention(qkv, 3 * e, heads, self, view, scale, weights_.compute,
                                   attention_.data(), e));
    RETURN_IF_ERROR(
        layer.attn_out->Forward(attention_.data(), padded, residual_.as<float>(), true));
    SublayerOutput(layer.attn_norm, rows);
    RETURN_IF_ERROR(FeedForward(*layer.fc1, *layer.fc2, layer.mlp_norm, rows, padded,
                                seq2seq_.encoder_ffn_dim));
  }
  // The encoder output, in the compute type, feeds every decoder layer's cross k|v projection.
  const float eps = static_cast<float>(config_.norm_eps);
  if (seq2seq_.normalize_before) {
    LayerNormRows(residual_.as<float>(), rows, e, weights_.encoder_final_norm.gamma,
                  weights_.encoder_final_norm.beta, eps, weights_.compute, normed_.data());
  } else {
    StoreAs(weights_.compute, residual_.as<float>(), rows * e, normed_.data(), 0);
  }
  for (size_t l = 0; l < weights_.decoder_layers.size(); ++l) {
    RETURN_IF_ERROR(weights_.decoder_layers[l].cross_kv->Forward(normed_.data(), padded, qkv));
    StoreKv(qkv, qkv + e, 2 * e, cross, cache.layer(static_cast<int64_t>(l)));
  }
  return absl::OkStatus();
}

absl::Status MarianModel::Decode(absl::Span<const SequenceStep> steps, KvCache& cache,
                                 float* logits, ForwardProfile* profile) {
  const int64_t e = config_.hidden_size;
  int64_t rows = 0;
  for (const SequenceStep& s : steps) rows += static_cast<int64_t>(s.tokens.size());
  const int64_t padded = onednn::Linear::RowClass(rows);
  Reserve(padded);
  std::vector<AttentionSequence> self, cross;
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    AttentionSequence a;
    a.first_row = row;
    a.num_rows = static_cast<int64_t>(s.tokens.size());
    a.past = s.past;
    a.block_table = s.block_table.data();
    self.push_back(a);
    a.block_table = s.cross_block_table.data();
    a.num_keys = static_cast<int64_t>(s.source.size());
    cross.push_back(a);
    for (size_t i = 0; i < s.tokens.size(); ++i, ++row) {
      tokens_[static_cast<size_t>(row)] = s.tokens[i];
      positions_[static_cast<size_t>(row)] = static_cast<int32_t>(s.past + static_cast<int64_t>(i));
    }
  }
  Embed(weights_.decoder_embedding, tokens_.data(), positions_.data(), rows, padded);
  const float scale = 1.0f / std::sqrt(static_cast<float>(config_.head_dim));
  const int64_t heads = config_.num_heads;
  const DType compute = weights_.compute;
  float* projected = projected_.as<float>();
  float* x = residual_.as<float>();
  for (size_t l = 0; l < weights_.decoder_layers.size(); ++l) {
    MarianDecoderLayerWeights& layer = weights_.decoder_layers[l];
    const KvLayerView kv = cache.layer(static_cast<int64_t>(l));
    {
      ScopedOpTimer timer(profile, ForwardOp::kAttention);
      const void* in = SublayerInput(layer.self_norm, rows);
      RETURN_IF_ERROR(layer.self_qkv->Forward(in, padded, projected));
      StoreKv(projected + e, projected + 2 * e, 3 * e, self, kv);
      RETURN_IF_ERROR(
          PagedAttention(projected, 3 * e, heads, self, kv, scale, compute, attention_.data(), e));
      RETURN_IF_ERROR(layer.self_out->Forward(attention_.data(), padded, x, true));
      SublayerOutput(layer.self_norm, rows);
    }
    {
      ScopedOpTimer timer(profile, ForwardOp::kAttention);
      const void* in = SublayerInput(layer.cross_norm, rows);
      RETURN_IF_ERROR(layer.cross_q->Forward(in, padded, projected));
      RETURN_IF_ERROR(
          PagedAttention(projected, e, heads, cross, kv, scale, compute, attention_.data(), e));
      RETURN_IF_ERROR(layer.cross_out->Forward(attention_.data(), padded, x, true));
      SublayerOutput(layer.cross_norm, rows);
    }
    ScopedOpTimer timer(profile, ForwardOp::kMlpIn);
    RETURN_IF_ERROR(FeedForward(*layer.fc1, *layer.fc2, layer.mlp_norm, rows, padded,
                                config_.intermediate_size));
  }

  // The LM head over the rows that want logits, plus final_logits_bias.
  ScopedOpTimer timer(profile, ForwardOp::kLmHead);
  int64_t wanted = 0;
  row = 0;
  float* last_rows = projected_.as<float>();  // reused: [wanted, hidden] f32
  for (const SequenceStep& s : steps) {
    row += static_cast<int64_t>(s.tokens.size());
    if (!s.want_logits) continue;
    std::memcpy(last_rows + wanted * e, x + (row - 1) * e, static_cast<size_t>(e) * sizeof(float));
    ++wanted;
  }
  if (wanted == 0) return absl::OkStatus();
  if (seq2seq_.normalize_before) {
    LayerNormRows(last_rows, wanted, e, weights_.decoder_final_norm.gamma,
                  weights_.decoder_final_norm.beta, static_cast<float>(config_.norm_eps), compute,
                  normed_.data());
  } else {
    StoreAs(compute, last_rows, wanted * e, normed_.data(), 0);
  }
  const int64_t vocab = config_.vocab_size;
  RETURN_IF_ERROR(
      ForwardPaddedRows(*weights_.lm_head, normed_.data(), wanted, logits, lm_scratch_));
  if (weights_.final_logits_bias != nullptr) {
    for (int64_t r = 0; r < wanted; ++r) {
      float* out = logits + r * vocab;
      for (int64_t j = 0; j < vocab; ++j) out[j] += weights_.final_logits_bias[j];
    }
  }
  return absl::OkStatus();
}

absl::Status MarianModel::Forward(absl::Span<const SequenceStep> steps, KvCache& cache,
                                  float* logits, ForwardProfile* profile) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = Validate(steps, cache);
  if (status.ok()) status = Encode(steps, cache, profile);
  if (status.ok()) status = Decode(steps, cache, logits, profile);
  if (profile != nullptr) {
    profile->total_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++profile->steps;
  }
  return status;
}

}  // namespace ember
