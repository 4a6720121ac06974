#include "core/model/marian_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kernels/convert.h"
#include "core/kernels/norm.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/onednn/matmul_attention.h"
#include "core/model/marian_weight_plan.h"
#include "core/model/padded_rows.h"
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

StepWidths MarianStepWidths(const ModelConfig& config) {
  const int64_t e = config.hidden_size;
  const int64_t ffn = std::max(config.intermediate_size, config.encoder_decoder->encoder_ffn_dim);
  StepWidths w;
  w.hidden = e;
  w.projected = 3 * e;  // q|k|v, cross q, cross k|v
  w.attention = e;
  w.mlp = ffn;  // the wider of the encoder's and the decoder's fc1
  w.activated = ffn;
  return w;
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
  MarianWeights weights;
  RETURN_IF_ERROR(LoadWeights(
      model_dir,
      [&](const Checkpoint& checkpoint, std::vector<std::string>& used) {
        return PlanMarianWeights(config, checkpoint, compute, weights, used);
      },
      {options.quantize, &weights.lm_head, options.quantize_lm_head}, weights.arena));
  if (config.encoder_decoder->share_embeddings) {
    weights.decoder_embedding = weights.encoder_embedding;
  }
  return std::unique_ptr<MarianModel>(new MarianModel(config, std::move(weights),
                                                      ServedContext(config, options),
                                                      WeightFormatName(options, compute)));
}

MarianModel::MarianModel(const ModelConfig& config, MarianWeights weights, int64_t max_context,
                         std::string weight_format)
    : ModelBase(config, weights.compute, max_context, MarianStepWidths(config),
                std::move(weight_format)),
      seq2seq_(*config_.encoder_decoder),
      weights_(std::move(weights)),
      embed_scale_(seq2seq_.scale_embedding
                       ? static_cast<float>(std::sqrt(static_cast<double>(config_.hidden_size)))
                       : 1.0f),
      sinusoids_(Sinusoids(max_context, config_.hidden_size)) {}

absl::Status MarianModel::PrepareShapes(int64_t max_rows, int64_t max_logit_rows) {
  RETURN_IF_ERROR(PrepareLogitRows(max_rows, max_logit_rows, *weights_.lm_head));
  const int64_t encoder_rows = std::max(max_rows, max_context_);
  scratch().Reserve(onednn::Linear::RowClass(encoder_rows));
  RETURN_IF_ERROR(PrepareProjections(EncoderProjections(), encoder_rows));
  RETURN_IF_ERROR(PrepareProjections(DecoderProjections(), max_rows));
  const int64_t decoder_head_dim = config_.head_dim;
  const int64_t encoder_head_dim = config_.hidden_size / seq2seq_.encoder_heads;
  RETURN_IF_ERROR(onednn::PrepareMatmulAttention(compute_, decoder_head_dim, 1, max_context_));
  if (encoder_head_dim == decoder_head_dim) return absl::OkStatus();
  return onednn::PrepareMatmulAttention(compute_, encoder_head_dim, 1, max_context_);
}

int64_t MarianModel::primitives_created() const {
  return weights_.lm_head->primitives_created() + PrimitivesCreated(EncoderProjections()) +
         PrimitivesCreated(DecoderProjections());
}

std::vector<ModelBase::Projection> MarianModel::EncoderProjections() const {
  std::vector<Projection> all;
  for (const MarianEncoderLayerWeights& l : weights_.encoder_layers) {
    all.insert(all.end(), {{l.qkv.get(), false},
                           {l.attn_out.get(), true},
                           {l.fc1.get(), false},
                           {l.fc2.get(), true}});
  }
  for (const MarianDecoderLayerWeights& l : weights_.decoder_layers) {
    all.push_back({l.cross_kv.get(), false});
  }
  return all;
}

std::vector<ModelBase::Projection> MarianModel::DecoderProjections() const {
  std::vector<Projection> all;
  for (const MarianDecoderLayerWeights& l : weights_.decoder_layers) {
    all.insert(all.end(), {{l.self_qkv.get(), false},
                           {l.self_out.get(), true},
                           {l.cross_q.get(), false},
                           {l.cross_out.get(), true},
                           {l.fc1.get(), false},
                           {l.fc2.get(), true}});
  }
  return all;
}

absl::Status MarianModel::Validate(absl::Span<const SequenceStep> steps,
                                   const KvCache& cache) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& s = steps[i];
    ASSIGN_OR_RETURN(const int64_t end, CheckPositions(s));
    if (s.row_sink != nullptr) {  // the engine refuses prompt_logprobs for these models first
      return absl::UnimplementedError(
          absl::StrCat("step ", i, ": encoder-decoder models do not score their positions"));
    }
    const int64_t source = static_cast<int64_t>(s.source.size());
    if (source == 0 || source > max_context_) {
      return absl::InvalidArgumentError(absl::StrCat("step ", i, ": the source has ", source,
                                                     " tokens; need 1 to ", max_context_));
    }
    const int64_t bs = cache.block_size();
    if (static_cast<int64_t>(s.block_table.size()) < KvCache::BlocksFor(end, bs) ||
        static_cast<int64_t>(s.cross_block_table.size()) < KvCache::BlocksFor(source, bs)) {
      return absl::InvalidArgumentError(
          absl::StrCat("step ", i, ": block tables of ", s.block_table.size(), " and ",
                       s.cross_block_table.size(), " blocks cannot hold ", end,
                       " positions and a source of ", source));
    }
    RETURN_IF_ERROR(CheckTokenIds(s.tokens));
    RETURN_IF_ERROR(CheckTokenIds(s.source));
  }
  return absl::OkStatus();
}

void MarianModel::Embed(const void* table, int64_t rows, int64_t padded) {
  GatherEmbeddings(table, compute_, rows);  // the tables are stored in the compute type
  const int64_t e = config_.hidden_size;
  float* x = scratch().residual();
  const int32_t* positions = scratch().positions();
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = x + r * e;
    const float* pos = sinusoids_.data() + static_cast<int64_t>(positions[r]) * e;
    for (int64_t j = 0; j < e; ++j) dst[j] = dst[j] * embed_scale_ + pos[j];
  }
  std::memset(x + rows * e, 0, static_cast<size_t>((padded - rows) * e) * sizeof(float));
}

const void* MarianModel::SublayerInput(const NormWeights& norm, int64_t rows,
                                       ForwardProfile* profile) {
  ScopedOpTimer timer(profile, ForwardOp::kNorm);
  const int64_t e = config_.hidden_size;
  float* x = scratch().residual();
  void* normed = scratch().normed();
  if (seq2seq_.normalize_before) {
    LayerNormRows(x, rows, e, norm.gamma, norm.beta, static_cast<float>(config_.norm_eps), compute_,
                  normed);
    return normed;
  }
  if (compute_ == DType::kF32) return x;
  F32ToBf16(x, rows * e, static_cast<uint16_t*>(normed));
  return normed;
}

void MarianModel::SublayerOutput(const NormWeights& norm, int64_t rows, ForwardProfile* profile) {
  if (seq2seq_.normalize_before) return;
  ScopedOpTimer timer(profile, ForwardOp::kNorm);
  float* x = scratch().residual();
  LayerNormRows(x, rows, config_.hidden_size, norm.gamma, norm.beta,
                static_cast<float>(config_.norm_eps), DType::kF32, x);
}

absl::Status MarianModel::Attend(LinearLayer& project, LinearLayer& out, const NormWeights& norm,
                                 absl::Span<const AttentionSequence> sequences,
                                 const KvLayerView& kv, int64_t rows, int64_t padded,
                                 ForwardProfile* profile) {
  const int64_t e = config_.hidden_size;
  const int64_t width = project.out();       // 3 * e for q|k|v, e for q
  float* projected = scratch().projected();  // [padded, width] f32
  void* attention = scratch().attention();   // [padded, hidden] compute
  const void* in = SublayerInput(norm, rows, profile);
  {
    ScopedOpTimer timer(profile, ForwardOp::kQkv);
    RETURN_IF_ERROR(project.Forward(in, padded, projected));
  }
  if (width == 3 * e) {
    ScopedOpTimer timer(profile, ForwardOp::kStoreKv);
    StoreKv(projected + e, projected + 2 * e, width, sequences, kv);
  }
  {
    // Marian has no grouped-query attention: as many query heads as the cache has kv heads.
    ScopedOpTimer timer(profile, ForwardOp::kAttention);
    const float scale = 1.0f / std::sqrt(static_cast<float>(kv.head_dim));
    RETURN_IF_ERROR(PagedAttention(projected, width, kv.num_kv_heads, sequences, kv, scale,
                                   compute_, attention, e));
  }
  {
    ScopedOpTimer timer(profile, ForwardOp::kAttnOut);
    RETURN_IF_ERROR(out.Forward(attention, padded, scratch().residual(), /*accumulate=*/true));
  }
  SublayerOutput(norm, rows, profile);
  return absl::OkStatus();
}

absl::Status MarianModel::FeedForward(LinearLayer& fc1, LinearLayer& fc2, const NormWeights& norm,
                                      int64_t rows, int64_t padded, int64_t ffn_dim,
                                      ForwardProfile* profile) {
  float* mlp = scratch().mlp();
  const void* in = SublayerInput(norm, rows, profile);
  {
    ScopedOpTimer timer(profile, ForwardOp::kMlpIn);
    RETURN_IF_ERROR(fc1.Forward(in, padded, mlp));
  }
  const void* activated = mlp;
  if (compute_ == DType::kBF16) {
    ScopedOpTimer timer(profile, ForwardOp::kActivation);
    F32ToBf16(mlp, rows * ffn_dim, static_cast<uint16_t*>(scratch().activated()));
    activated = scratch().activated();
  }
  {
    ScopedOpTimer timer(profile, ForwardOp::kMlpOut);
    RETURN_IF_ERROR(fc2.Forward(activated, padded, scratch().residual(), /*accumulate=*/true));
  }
  SublayerOutput(norm, rows, profile);
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
    for (int64_t b = 0; b < KvCache::BlocksFor(n, bs); ++b) {
      encoder_tables.push_back(static_cast<int32_t>(encoder_tables.size()));
    }
    rows += n;
  }
  if (rows == 0) return absl::OkStatus();
  ScopedOpTimer setup(profile, ForwardOp::kSetup);
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
    first_block += KvCache::BlocksFor(n, bs);
  }
  const int64_t padded = onednn::Linear::RowClass(rows);
  scratch().Reserve(padded);
  int32_t* tokens = scratch().tokens();
  int32_t* positions = scratch().positions();
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    if (s.past != 0) continue;
    for (size_t i = 0; i < s.source.size(); ++i, ++row) {
      tokens[row] = s.source[i];
      positions[row] = static_cast<int32_t>(i);
    }
  }
  const int64_t heads = seq2seq_.encoder_heads;
  const int64_t head_dim = e / heads;
  const size_t pool = static_cast<size_t>(blocks * heads * bs * head_dim) * DTypeSize(compute_);
  if (encoder_kv_.size() < 2 * pool) encoder_kv_ = AlignedBuffer(2 * pool);
  KvLayerView view;
  view.k = encoder_kv_.data();
  view.v = static_cast<char*>(encoder_kv_.data()) + pool;
  view.dtype = compute_;
  view.num_blocks = blocks;
  view.block_size = bs;
  view.num_kv_heads = heads;
  view.head_dim = head_dim;
  setup.Stop();
  {
    ScopedOpTimer timer(profile, ForwardOp::kEmbed);
    Embed(weights_.encoder_embedding, rows, padded);
  }
  for (MarianEncoderLayerWeights& layer : weights_.encoder_layers) {
    RETURN_IF_ERROR(
        Attend(*layer.qkv, *layer.attn_out, layer.attn_norm, self, view, rows, padded, profile));
    RETURN_IF_ERROR(FeedForward(*layer.fc1, *layer.fc2, layer.mlp_norm, rows, padded,
                                seq2seq_.encoder_ffn_dim, profile));
  }
  // The encoder output, in the compute type, feeds every decoder layer's cross k|v projection.
  void* encoded = scratch().normed();
  {
    ScopedOpTimer timer(profile, ForwardOp::kNorm);
    if (seq2seq_.normalize_before) {
      LayerNormRows(scratch().residual(), rows, e, weights_.encoder_final_norm.gamma,
                    weights_.encoder_final_norm.beta, static_cast<float>(config_.norm_eps),
                    compute_, encoded);
    } else {
      StoreAs(compute_, scratch().residual(), rows * e, encoded, 0);
    }
  }
  float* kv = scratch().projected();  // [padded, k|v] f32
  for (size_t l = 0; l < weights_.decoder_layers.size(); ++l) {
    {
      ScopedOpTimer timer(profile, ForwardOp::kQkv);
      RETURN_IF_ERROR(weights_.decoder_layers[l].cross_kv->Forward(encoded, padded, kv));
    }
    ScopedOpTimer timer(profile, ForwardOp::kStoreKv);
    StoreKv(kv, kv + e, 2 * e, cross, cache.layer(static_cast<int64_t>(l)));
  }
  return absl::OkStatus();
}

absl::Status MarianModel::Decode(absl::Span<const SequenceStep> steps, KvCache& cache,
                                 float* logits, ForwardProfile* profile) {
  ScopedOpTimer setup(profile, ForwardOp::kSetup);
  const int64_t e = config_.hidden_size;
  int64_t rows = 0;
  for (const SequenceStep& s : steps) rows += static_cast<int64_t>(s.tokens.size());
  const int64_t padded = onednn::Linear::RowClass(rows);
  scratch().Reserve(padded);
  const std::vector<AttentionSequence> self = LayOutRows(steps);
  // The same rows attending, without a causal mask, to every position of their encoded source.
  std::vector<AttentionSequence> cross = self;
  for (size_t i = 0; i < steps.size(); ++i) {
    cross[i].block_table = steps[i].cross_block_table.data();
    cross[i].num_keys = static_cast<int64_t>(steps[i].source.size());
  }
  setup.Stop();
  {
    ScopedOpTimer timer(profile, ForwardOp::kEmbed);
    Embed(weights_.decoder_embedding, rows, padded);
  }
  for (size_t l = 0; l < weights_.decoder_layers.size(); ++l) {
    MarianDecoderLayerWeights& layer = weights_.decoder_layers[l];
    const KvLayerView kv = cache.layer(static_cast<int64_t>(l));
    RETURN_IF_ERROR(
        Attend(*layer.self_qkv, *layer.self_out, layer.self_norm, self, kv, rows, padded, profile));
    RETURN_IF_ERROR(Attend(*layer.cross_q, *layer.cross_out, layer.cross_norm, cross, kv, rows,
                           padded, profile));
    RETURN_IF_ERROR(FeedForward(*layer.fc1, *layer.fc2, layer.mlp_norm, rows, padded,
                                config_.intermediate_size, profile));
  }

  // The LM head over the rows that want logits, plus final_logits_bias.
  ScopedOpTimer timer(profile, ForwardOp::kLmHead);
  float* last_rows = scratch().projected();  // reused: [wanted, hidden] f32
  const int64_t wanted = GatherLogitRows(steps, last_rows);
  if (wanted == 0) return absl::OkStatus();
  void* normed = scratch().normed();
  if (seq2seq_.normalize_before) {
    LayerNormRows(last_rows, wanted, e, weights_.decoder_final_norm.gamma,
                  weights_.decoder_final_norm.beta, static_cast<float>(config_.norm_eps), compute_,
                  normed);
  } else {
    StoreAs(compute_, last_rows, wanted * e, normed, 0);
  }
  const int64_t vocab = config_.vocab_size;
  RETURN_IF_ERROR(ForwardPaddedRows(*weights_.lm_head, normed, wanted, logits, scratch().logits()));
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
  ScopedStepTimer step_timer(profile);
  {
    ScopedOpTimer timer(profile, ForwardOp::kSetup);
    RETURN_IF_ERROR(Validate(steps, cache));
  }
  RETURN_IF_ERROR(Encode(steps, cache, profile));
  return Decode(steps, cache, logits, profile);
}

}  // namespace ember
