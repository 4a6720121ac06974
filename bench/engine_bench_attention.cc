#include "bench/engine_bench_attention.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/kernels/convert.h"
#include "core/kernels/fast_math.h"
#include "core/kernels/paged_attention.h"
#include "core/kernels/vectorize.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/half.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ember::bench {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Causal softmax of one score row over its first `visible` keys, written as `type` probabilities
// (zeros past `visible`, so P . V can run over the full square). Returns 1 / sum.
EMBER_VECTORIZED float SoftmaxRow(float* s, int64_t n, int64_t visible, float scale, DType type,
                                  void* p, int64_t offset) {
  float max = -3.0e38f;
  for (int64_t j = 0; j < visible; ++j) max = s[j] > max ? s[j] : max;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < visible; ++j) {
    s[j] = FastExp((s[j] - max) * scale);
    sum += s[j];
  }
  for (int64_t j = visible; j < n; ++j) s[j] = 0.0f;
  StoreAs(type, s, n, p, offset);
  return 1.0f / sum;
}

// The prototype: per kv head, S = Q_g K^T and O = P V as two oneDNN matmuls over the full
// [group x tokens, tokens] square (twice the causal FLOPs, at GEMM speed), softmax in between.
class MatmulAttention {
 public:
  MatmulAttention(const ModelConfig& c, int64_t tokens, DType compute)
      : tokens_(tokens),
        group_(c.num_heads / c.num_kv_heads),
        hd_(c.head_dim),
        compute_(compute),
        engine_(dnnl::engine::kind::cpu, 0),
        stream_(engine_) {
    const dt type = compute == DType::kBF16 ? dt::bf16 : dt::f32;
    const int64_t rows = tokens * group_;
    q_md_ = dnnl::memory::desc({rows, hd_}, type, tag::ab);
    kt_md_ = dnnl::memory::desc({hd_, tokens}, type, tag::ba);  // K stored [tokens, hd]
    s_md_ = dnnl::memory::desc({rows, tokens}, dt::f32, tag::ab);
    p_md_ = dnnl::memory::desc({rows, tokens}, type, tag::ab);
    v_md_ = dnnl::memory::desc({tokens, hd_}, type, tag::ab);
    o_md_ = dnnl::memory::desc({rows, hd_}, dt::f32, tag::ab);
    qk_ = dnnl::matmul(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(q_md_, kt_md_, s_md_), engine_));
    pv_ = dnnl::matmul(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(p_md_, v_md_, o_md_), engine_));
    const size_t es = DTypeSize(compute);
    q_ = AlignedBuffer(static_cast<size_t>(rows * hd_) * es);
    k_ = AlignedBuffer(static_cast<size_t>(tokens * hd_) * es);
    v_ = AlignedBuffer(static_cast<size_t>(tokens * hd_) * es);
    s_ = AlignedBuffer(static_cast<size_t>(rows * tokens) * sizeof(float));
    p_ = AlignedBuffer(static_cast<size_t>(rows * tokens) * es);
    o_ = AlignedBuffer(static_cast<size_t>(rows * hd_) * sizeof(float));
    inv_sum_.resize(static_cast<size_t>(rows));
  }

  // Same contract as PagedAttention for one sequence of `tokens` rows starting at position 0.
  void Run(const float* q, int64_t q_stride, const KvLayerView& cache, const int32_t* table,
           float scale, void* out, int64_t out_stride) {
    const size_t es = DTypeSize(compute_);
    const int64_t rows = tokens_ * group_;
    dnnl::memory q_mem(q_md_, engine_, q_.data()), kt_mem(kt_md_, engine_, k_.data());
    dnnl::memory s_mem(s_md_, engine_, s_.data()), p_mem(p_md_, engine_, p_.data());
    dnnl::memory v_mem(v_md_, engine_, v_.data()), o_mem(o_md_, engine_, o_.data());
    for (int64_t h = 0; h < cache.num_kv_heads; ++h) {
      // Gather: Q rows (t, g) of this kv head's group, and its K / V rows out of the paged cache.
#pragma omp parallel for
      for (int64_t t = 0; t < tokens_; ++t) {
        StoreAs(compute_, q + t * q_stride + h * group_ * hd_, group_ * hd_, q_.data(),
                t * group_ * hd_);
        const int64_t block = table[t / cache.block_size];
        const int64_t slot =
            ((block * cache.num_kv_heads + h) * cache.block_size + t % cache.block_size) * hd_;
        std::memcpy(static_cast<char*>(k_.data()) + static_cast<size_t>(t * hd_) * es,
                    static_cast<const char*>(cache.k) + static_cast<size_t>(slot) * es,
                    static_cast<size_t>(hd_) * es);
        std::memcpy(static_cast<char*>(v_.data()) + static_cast<size_t>(t * hd_) * es,
                    static_cast<const char*>(cache.v) + static_cast<size_t>(slot) * es,
                    static_cast<size_t>(hd_) * es);
      }
      qk_.execute(stream_,
                  {{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, kt_mem}, {DNNL_ARG_DST, s_mem}});
      stream_.wait();
      float* s = s_.as<float>();
#pragma omp parallel for schedule(static, 16)
      for (int64_t r = 0; r < rows; ++r) {
        inv_sum_[static_cast<size_t>(r)] = SoftmaxRow(s + r * tokens_, tokens_, r / group_ + 1,
                                                      scale, compute_, p_.data(), r * tokens_);
      }
      pv_.execute(stream_,
                  {{DNNL_ARG_SRC, p_mem}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, o_mem}});
      stream_.wait();
      float* o = o_.as<float>();
#pragma omp parallel for
      for (int64_t r = 0; r < rows; ++r) {
        float* row = o + r * hd_;
        const float inv = inv_sum_[static_cast<size_t>(r)];
        for (int64_t d = 0; d < hd_; ++d) row[d] *= inv;
        const int64_t t = r / group_, g = r % group_;
        StoreAs(compute_, row, hd_, out, t * out_stride + (h * group_ + g) * hd_);
      }
    }
  }

 private:
  int64_t tokens_, group_, hd_;
  DType compute_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::memory::desc q_md_, kt_md_, s_md_, p_md_, v_md_, o_md_;
  dnnl::matmul qk_, pv_;
  AlignedBuffer q_, k_, v_, s_, p_, o_;
  std::vector<float> inv_sum_;
};

float ToFloat(const void* data, DType type, int64_t i) {
  if (type == DType::kBF16) return Bf16ToFloat(static_cast<const uint16_t*>(data)[i]);
  return static_cast<const float*>(data)[i];
}

}  // namespace

void RunPrefillAttentionExperiment(const ModelConfig& c, int64_t tokens, DType compute,
                                   std::ostream& log) {
  const int64_t hd = c.head_dim, q_width = c.num_heads * hd, kv_width = c.num_kv_heads * hd;
  const int64_t qkv_width = q_width + 2 * kv_width;
  const int64_t block_size = 16;
  const int64_t blocks = (tokens + block_size - 1) / block_size;
  // Activations of a plausible scale: q . k spreads scores over a few units.
  std::vector<float> qkv(static_cast<size_t>(tokens * qkv_width));
  for (size_t i = 0; i < qkv.size(); ++i) {
    qkv[i] = 0.5f * std::sin(0.37f * static_cast<float>(i % 9973) + 0.11f * static_cast<float>(i));
  }
  const size_t es = DTypeSize(compute);
  AlignedBuffer k(static_cast<size_t>(blocks * c.num_kv_heads * block_size * hd) * es);
  AlignedBuffer v(k.size());
  KvLayerView view{k.data(), v.data(), compute, blocks, block_size, c.num_kv_heads, hd};
  std::vector<int32_t> table(static_cast<size_t>(blocks));
  std::iota(table.begin(), table.end(), 0);
  const AttentionSequence seq{0, tokens, 0, table.data()};
  StoreKv(qkv.data() + q_width, qkv.data() + q_width + kv_width, qkv_width, {&seq, 1}, view);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  AlignedBuffer out_core(static_cast<size_t>(tokens * q_width) * es), out_proto(out_core.size());

  auto best_of = [](int runs, auto&& f) {
    double best = 1e30;
    for (int r = 0; r < runs; ++r) {
      const double start = Now();
      f();
      best = std::min(best, Now() - start);
    }
    return best;
  };
  const double core = best_of(3, [&] {
    PagedAttention(qkv.data(), qkv_width, c.num_heads, {&seq, 1}, view, scale, compute,
                   out_core.data(), q_width);
  });
  double proto = 0;
  try {
    MatmulAttention attention(c, tokens, compute);
    proto = best_of(3, [&] {
      attention.Run(qkv.data(), qkv_width, view, table.data(), scale, out_proto.data(), q_width);
    });
  } catch (const dnnl::error& e) {
    log << "attention prototype: oneDNN error " << e.what() << "\n";
    return;
  }
  double max_diff = 0, max_ref = 0;
  for (int64_t i = 0; i < tokens * q_width; ++i) {
    const double a = ToFloat(out_core.data(), compute, i),
                 b = ToFloat(out_proto.data(), compute, i);
    max_diff = std::max(max_diff, std::fabs(a - b));
    max_ref = std::max(max_ref, std::fabs(a));
  }
  const double layers = static_cast<double>(c.num_layers);
  const double causal_flops = 4.0 * static_cast<double>(q_width) * static_cast<double>(tokens) *
                              (static_cast<double>(tokens) + 1.0) / 2.0;
  log << absl::StrFormat(
      "prefill attention, %d tokens (%d heads / %d kv heads, dim %d, %s cache): core "
      "PagedAttention %.1f ms/layer = %.0f ms/step (%.1f GFLOP/s causal); two oneDNN matmuls per "
      "kv head + vectorized softmax %.1f ms/layer = %.0f ms/step (%.1f GFLOP/s causal-equivalent), "
      "%.1fx; max |diff| %.2e (max |out| %.2e)\n",
      tokens, c.num_heads, c.num_kv_heads, hd, DTypeName(compute), core * 1e3, core * layers * 1e3,
      causal_flops / core / 1e9, proto * 1e3, proto * layers * 1e3, causal_flops / proto / 1e9,
      core / proto, max_diff, max_ref);
}

}  // namespace ember::bench
