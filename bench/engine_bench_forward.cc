#include "bench/engine_bench_forward.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/kernels/activation.h"
#include "core/kernels/convert.h"
#include "core/kernels/norm.h"
#include "core/kernels/paged_attention.h"
#include "core/model/checkpoint.h"
#include "core/model/decoder_weight_plans.h"
#include "core/model/rope_frequencies.h"
#include "core/tensor/half.h"
#include "core/util/status_macros.h"

namespace ember::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Times the rest of the enclosing scope into `profile` under `op`.
class OpTimer {
 public:
  OpTimer(ForwardProfile& profile, ForwardOp op) : profile_(profile), op_(op), start_(Now()) {}
  ~OpTimer() {
    const size_t i = static_cast<size_t>(op_);
    profile_.seconds[i] += Now() - start_;
    ++profile_.calls[i];
  }
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  ForwardProfile& profile_;
  ForwardOp op_;
  double start_;
};

}  // namespace

const char* ForwardOpName(ForwardOp op) {
  switch (op) {
    case ForwardOp::kSetup:
      return "setup";
    case ForwardOp::kEmbed:
      return "embed";
    case ForwardOp::kNorm:
      return "norm";
    case ForwardOp::kQkv:
      return "qkv matmul";
    case ForwardOp::kRope:
      return "rope";
    case ForwardOp::kStoreKv:
      return "store kv";
    case ForwardOp::kAttention:
      return "attention";
    case ForwardOp::kAttnOut:
      return "attn_out matmul";
    case ForwardOp::kMlpIn:
      return "mlp_in matmul";
    case ForwardOp::kActivation:
      return "activation";
    case ForwardOp::kMlpOut:
      return "mlp_out matmul";
    case ForwardOp::kLmHead:
      return "lm_head (+gather)";
    case ForwardOp::kCount:
      break;
  }
  return "?";
}

void ForwardProfile::Add(const ForwardProfile& other) {
  for (size_t i = 0; i < seconds.size(); ++i) {
    seconds[i] += other.seconds[i];
    calls[i] += other.calls[i];
  }
  total_seconds += other.total_seconds;
  steps += other.steps;
}

ForwardProfile MinPerStep(const std::vector<ForwardProfile>& steps) {
  ForwardProfile min;
  if (steps.empty()) return min;
  min = steps.front();
  for (const ForwardProfile& p : steps) {
    for (size_t i = 0; i < min.seconds.size(); ++i) {
      min.seconds[i] = std::min(min.seconds[i], p.seconds[i] / static_cast<double>(p.steps));
      min.calls[i] = p.calls[i] / p.steps;
    }
    min.total_seconds = std::min(min.total_seconds, p.total_seconds / static_cast<double>(p.steps));
  }
  min.steps = 1;
  return min;
}

ForwardProfile SumOf(const std::vector<ForwardProfile>& steps) {
  ForwardProfile sum;
  for (const ForwardProfile& p : steps) sum.Add(p);
  return sum;
}

absl::StatusOr<std::unique_ptr<ProfiledDecoder>> ProfiledDecoder::Load(const std::string& model_dir,
                                                                       DType compute) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(model_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint, Checkpoint::Open(model_dir));
  DecoderWeights weights;
  weights.compute = compute;
  std::vector<std::string> used;
  absl::StatusOr<WeightPlan> plan =
      config.architecture == Architecture::kGpt2
          ? PlanGpt2Weights(config, *checkpoint, compute, weights, used)
          : PlanLlamaWeights(config, *checkpoint, compute, weights, used);
  if (!plan.ok()) return plan.status();
  for (const auto& file : checkpoint->files()) {
    (void)file->Advise(SafetensorsFile::Access::kSequential);
  }
  RETURN_IF_ERROR(ExecuteWeightPlan(*plan, weights));
  checkpoint.reset();
  return std::unique_ptr<ProfiledDecoder>(
      new ProfiledDecoder(std::move(config), std::move(weights)));
}

ProfiledDecoder::ProfiledDecoder(ModelConfig config, DecoderWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  if (config_.architecture == Architecture::kLlama) {
    rope_ = std::make_unique<RopeTable>(RopeInverseFrequencies(config_), config_.max_context);
  }
}

void ProfiledDecoder::Reserve(int64_t rows) {
  if (rows <= reserved_rows_) return;
  rows = std::max(rows, 2 * reserved_rows_);
  const ModelConfig& c = config_;
  const size_t r = static_cast<size_t>(rows);
  const size_t compute = DTypeSize(weights_.compute);
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
  reserved_rows_ = rows;
}

void ProfiledDecoder::Embed(absl::Span<const SequenceStep> steps) {
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

absl::Status ProfiledDecoder::Forward(absl::Span<const SequenceStep> steps, KvCache& cache,
                                      float* logits, ForwardProfile& profile) {
  const double step_start = Now();
  const ModelConfig& c = config_;
  int64_t rows = 0;
  std::vector<AttentionSequence> attn_seqs;
  {
    OpTimer timer(profile, ForwardOp::kSetup);
    for (const SequenceStep& s : steps) {
      if (s.tokens.empty()) return absl::InvalidArgumentError("forward step with no tokens");
      const int64_t end = s.past + static_cast<int64_t>(s.tokens.size());
      if (end > c.max_context) return absl::InvalidArgumentError("past the context");
      const int64_t blocks_needed = (end + cache.block_size() - 1) / cache.block_size();
      if (static_cast<int64_t>(s.block_table.size()) < blocks_needed) {
        return absl::InvalidArgumentError("block table too short");
      }
      for (int32_t t : s.tokens) {
        if (t < 0 || t >= c.vocab_size) return absl::InvalidArgumentError("token id");
      }
      rows += static_cast<int64_t>(s.tokens.size());
    }
    Reserve(rows);
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
  }
  {
    OpTimer timer(profile, ForwardOp::kEmbed);
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
    OpTimer timer(profile, ForwardOp::kNorm);
    if (rms) {
      RmsNormRows(in, m, h, w.gamma, eps, compute, out);
    } else {
      LayerNormRows(in, m, h, w.gamma, w.beta, eps, compute, out);
    }
  };

  for (int64_t l = 0; l < c.num_layers; ++l) {
    DecoderLayerWeights& layer = weights_.layers[static_cast<size_t>(l)];
    const KvLayerView kv = cache.layer(l);
    norm(layer.attn_norm, x, rows, normed_.data());
    {
      OpTimer timer(profile, ForwardOp::kQkv);
      RETURN_IF_ERROR(layer.qkv->Forward(normed_.data(), rows, qkv));
    }
    if (rope_ != nullptr) {
      OpTimer timer(profile, ForwardOp::kRope);
      ApplyRope(qkv, rows, qkv_width, c.num_heads, positions_.data(), *rope_);
      ApplyRope(qkv + q_width, rows, qkv_width, c.num_kv_heads, positions_.data(), *rope_);
    }
    {
      OpTimer timer(profile, ForwardOp::kStoreKv);
      StoreKv(qkv + q_width, qkv + q_width + kv_width, qkv_width, attn_seqs, kv);
    }
    {
      OpTimer timer(profile, ForwardOp::kAttention);
      RETURN_IF_ERROR(PagedAttention(qkv, qkv_width, c.num_heads, attn_seqs, kv, scale, compute,
                                     attention_.data(), q_width));
    }
    {
      OpTimer timer(profile, ForwardOp::kAttnOut);
      RETURN_IF_ERROR(layer.attn_out->Forward(attention_.data(), rows, x, /*accumulate=*/true));
    }
    norm(layer.mlp_norm, x, rows, normed_.data());
    float* mlp = mlp_.as<float>();
    {
      OpTimer timer(profile, ForwardOp::kMlpIn);
      RETURN_IF_ERROR(layer.mlp_in->Forward(normed_.data(), rows, mlp));
    }
    const void* activated = mlp;
    if (c.architecture == Architecture::kLlama) {
      OpTimer timer(profile, ForwardOp::kActivation);
      SiluMul(mlp, rows, c.intermediate_size, compute, activated_.data());
      activated = activated_.data();
    } else if (compute == DType::kBF16) {
      OpTimer timer(profile, ForwardOp::kActivation);
      F32ToBf16(mlp, rows * c.intermediate_size, activated_.as<uint16_t>());
      activated = activated_.data();
    }
    {
      OpTimer timer(profile, ForwardOp::kMlpOut);
      RETURN_IF_ERROR(layer.mlp_out->Forward(activated, rows, x, /*accumulate=*/true));
    }
  }

  int64_t wanted = 0;
  int64_t row = 0;
  float* last_rows = mlp_.as<float>();
  for (const SequenceStep& s : steps) {
    row += static_cast<int64_t>(s.tokens.size());
    if (!s.want_logits) continue;
    std::memcpy(last_rows + wanted * h, x + (row - 1) * h, static_cast<size_t>(h) * sizeof(float));
    ++wanted;
  }
  absl::Status status;
  if (wanted > 0) {
    norm(weights_.final_norm, last_rows, wanted, normed_.data());
    OpTimer timer(profile, ForwardOp::kLmHead);
    status = weights_.lm_head->Forward(normed_.data(), wanted, logits);
  }
  profile.total_seconds += Now() - step_start;
  ++profile.steps;
  return status;
}

}  // namespace ember::bench
