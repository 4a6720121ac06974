#include "core/kernels/paged_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/kernels/attention_slab_avx512.h"
#include "core/kernels/convert.h"
#include "core/kernels/fast_math.h"
#include "core/kernels/onednn/matmul_attention.h"
#include "core/kernels/vectorize.h"
#include "core/tensor/half.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

// Element offset of (block, kv_head, slot, 0).
inline int64_t CacheOffset(const KvLayerView& c, int64_t block, int64_t kv_head, int64_t slot) {
  return ((block * c.num_kv_heads + kv_head) * c.block_size + slot) * c.head_dim;
}

// The kernels below work on one cache block's slab of one kv head, [block_size, head_dim]
// contiguous, so each call covers up to block_size keys: per-key calls (through target_clones'
// dispatch, which cannot inline) cost more than the arithmetic at decode sizes.

// s[j] = scale * (q . K[j]) for the slab's first n rows.
EMBER_VECTORIZED void SlabScores(const float* q, const void* k, DType dtype, int64_t offset,
                                 int64_t n, int64_t hd, float scale, float* s) {
  if (dtype == DType::kF32) {
    const float* kf = static_cast<const float*>(k) + offset;
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (int64_t d = 0; d < hd; ++d) acc += q[d] * kf[j * hd + d];
      s[j] = acc * scale;
    }
    return;
  }
  const uint16_t* kb = static_cast<const uint16_t*>(k) + offset;
  for (int64_t j = 0; j < n; ++j) {
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t d = 0; d < hd; ++d) acc += q[d] * Bf16ToFloat(kb[j * hd + d]);
    s[j] = acc * scale;
  }
}

// acc[d] += sum_j p[j] * V[j][d] over the slab's first n rows.
EMBER_VECTORIZED void SlabWeightedSum(const float* p, const void* v, DType dtype, int64_t offset,
                                      int64_t n, int64_t hd, float* acc) {
  if (dtype == DType::kF32) {
    const float* vf = static_cast<const float*>(v) + offset;
    for (int64_t j = 0; j < n; ++j) {
      const float w = p[j];
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) acc[d] += w * vf[j * hd + d];
    }
    return;
  }
  const uint16_t* vb = static_cast<const uint16_t*>(v) + offset;
  for (int64_t j = 0; j < n; ++j) {
    const float w = p[j];
#pragma omp simd
    for (int64_t d = 0; d < hd; ++d) acc[d] += w * Bf16ToFloat(vb[j * hd + d]);
  }
}

EMBER_VECTORIZED float MaxOf(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

// x[i] = e^(x[i] - max) in place; returns the sum.
EMBER_VECTORIZED float ExpAndSum(float* x, int64_t n, float max) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    x[i] = FastExp(x[i] - max);
    sum += x[i];
  }
  return sum;
}

// Asks for one slab ([block_size, head_dim] of one kv head) to be brought into cache while the
// current one is computed on: slabs of consecutive blocks are not adjacent in memory, so the
// hardware prefetcher stops at each slab's end and decode attention, which streams every
// sequence's whole cache once per layer, would wait on DRAM at each block boundary.
inline void PrefetchSlab(const void* base, DType dtype, int64_t offset, int64_t elements) {
  const size_t elem = dtype == DType::kF32 ? 4 : 2;
  const char* p = static_cast<const char*>(base) + static_cast<size_t>(offset) * elem;
  const size_t bytes = static_cast<size_t>(elements) * elem;
  for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(p + i, 0, 3);
}

// Query rows attended together: each key and value slab is brought into L1 once per block of
// rows instead of once per query row, which is what makes long-prompt prefill affordable.
constexpr int64_t kRowBlock = 16;

// Scratch reused across a thread's work items (and calls).
struct AttentionScratch {
  std::vector<float> scores;   // [rows * group, max_visible]
  std::vector<float> acc;      // [rows * group, head_dim]
  std::vector<float> inv_sum;  // [rows * group]: 1 / the softmax denominator
};

// One (sequence, kv head, block of query rows) item: all query heads of the group, for every row
// of the block, attend over the keys each row may see (causal: row at position p sees [0, p]).
void AttendBlock(const float* q, int64_t q_stride, int64_t num_heads, const AttentionSequence& s,
                 int64_t first_row, int64_t rows, int64_t kv_head, const KvLayerView& c,
                 float scale, DType out_type, void* out, int64_t out_stride,
                 AttentionScratch& scratch) {
  const int64_t hd = c.head_dim;
  const int64_t bs = c.block_size;
  const int64_t group = num_heads / c.num_kv_heads;
  const int64_t lanes = rows * group;  // (row, head) pairs of this item
  // Row r of the item sees keys [0, visible(r)).
  const int64_t first_visible = s.past + (first_row - s.first_row) + 1;
  auto visible = [&](int64_t r) { return s.num_keys > 0 ? s.num_keys : first_visible + r; };
  const int64_t max_visible = visible(rows - 1);
  scratch.scores.resize(static_cast<size_t>(lanes * max_visible));
  scratch.acc.assign(static_cast<size_t>(lanes * hd), 0.0f);
  float* scores = scratch.scores.data();
  float* acc = scratch.acc.data();
  const float* q_item = q + first_row * q_stride + kv_head * group * hd;
  const bool avx512 = HasAvx512AttentionSlabs(hd);

  const int64_t blocks = (max_visible + bs - 1) / bs;
  const int64_t slab = bs * hd;
  for (int64_t lb = 0; lb < blocks; ++lb) {
    const int64_t offset = CacheOffset(c, s.block_table[lb], kv_head, 0);
    const int64_t start = lb * bs;
    if (lb + 1 < blocks) {
      PrefetchSlab(c.k, c.dtype, CacheOffset(c, s.block_table[lb + 1], kv_head, 0), slab);
    } else {
      PrefetchSlab(c.v, c.dtype, CacheOffset(c, s.block_table[0], kv_head, 0), slab);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = std::min(bs, visible(r) - start);
      if (n <= 0) continue;
      if (avx512) {
        SlabScoresAvx512(q_item + r * q_stride, group, c.k, c.dtype, offset, n, hd, scale,
                         scores + r * group * max_visible + start, max_visible);
        continue;
      }
      for (int64_t g = 0; g < group; ++g) {
        const int64_t lane = r * group + g;
        SlabScores(q_item + r * q_stride + g * hd, c.k, c.dtype, offset, n, hd, scale,
                   scores + lane * max_visible + start);
      }
    }
  }
  scratch.inv_sum.resize(static_cast<size_t>(lanes));
  float* inv_sum = scratch.inv_sum.data();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < group; ++g) {
      const int64_t lane = r * group + g;
      float* row = scores + lane * max_visible;
      const int64_t n = visible(r);
      inv_sum[lane] = 1.0f / ExpAndSum(row, n, MaxOf(row, n));
    }
  }
  for (int64_t lb = 0; lb < blocks; ++lb) {
    const int64_t offset = CacheOffset(c, s.block_table[lb], kv_head, 0);
    const int64_t start = lb * bs;
    if (lb + 1 < blocks) {
      PrefetchSlab(c.v, c.dtype, CacheOffset(c, s.block_table[lb + 1], kv_head, 0), slab);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = std::min(bs, visible(r) - start);
      if (n <= 0) continue;
      if (avx512) {
        SlabWeightedSumAvx512(scores + r * group * max_visible + start, max_visible, group, c.v,
                              c.dtype, offset, n, hd, acc + r * group * hd);
        continue;
      }
      for (int64_t g = 0; g < group; ++g) {
        const int64_t lane = r * group + g;
        SlabWeightedSum(scores + lane * max_visible + start, c.v, c.dtype, offset, n, hd,
                        acc + lane * hd);
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < group; ++g) {
      const int64_t lane = r * group + g;
      float* a = acc + lane * hd;
      const float inv = inv_sum[lane];
      for (int64_t i = 0; i < hd; ++i) a[i] *= inv;
      StoreAs(out_type, a, hd, out, (first_row + r) * out_stride + (kv_head * group + g) * hd);
    }
  }
}

}  // namespace

void StoreKv(const float* k_rows, const float* v_rows, int64_t row_stride,
             absl::Span<const AttentionSequence> sequences, const KvLayerView& cache) {
  const int64_t hd = cache.head_dim;
  for (const AttentionSequence& s : sequences) {
    for (int64_t r = 0; r < s.num_rows; ++r) {
      const int64_t pos = s.past + r;
      const int64_t block = s.block_table[pos / cache.block_size];
      const int64_t slot = pos % cache.block_size;
      for (int64_t h = 0; h < cache.num_kv_heads; ++h) {
        const int64_t offset = CacheOffset(cache, block, h, slot);
        StoreAs(cache.dtype, k_rows + (s.first_row + r) * row_stride + h * hd, hd, cache.k, offset);
        StoreAs(cache.dtype, v_rows + (s.first_row + r) * row_stride + h * hd, hd, cache.v, offset);
      }
    }
  }
}

absl::Status PagedAttention(const float* q, int64_t q_stride, int64_t num_heads,
                            absl::Span<const AttentionSequence> sequences, const KvLayerView& cache,
                            float scale, DType out_type, void* out, int64_t out_stride) {
  // Work items: (sequence, kv head, block of up to kRowBlock rows). Blocks of a long prompt see
  // different numbers of keys, so scheduling is dynamic.
  struct Item {
    int32_t seq;
    int64_t first_row;
    int64_t rows;
    int64_t kv_head;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const AttentionSequence& s = sequences[i];
    if (s.num_rows >= kMatmulAttentionMinRows) {
      RETURN_IF_ERROR(onednn::MatmulAttention(q, q_stride, num_heads, s, cache, scale, out_type,
                                              out, out_stride));
      continue;
    }
    for (int64_t r = s.first_row; r < s.first_row + s.num_rows; r += kRowBlock) {
      const int64_t rows = std::min(kRowBlock, s.first_row + s.num_rows - r);
      for (int64_t h = 0; h < cache.num_kv_heads; ++h) {
        items.push_back({static_cast<int32_t>(i), r, rows, h});
      }
    }
  }
  const int64_t n = static_cast<int64_t>(items.size());
#pragma omp parallel if (n > 1)
  {
    thread_local AttentionScratch scratch;
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      const Item& it = items[static_cast<size_t>(i)];
      AttendBlock(q, q_stride, num_heads, sequences[static_cast<size_t>(it.seq)], it.first_row,
                  it.rows, it.kv_head, cache, scale, out_type, out, out_stride, scratch);
    }
  }
  return absl::OkStatus();
}

}  // namespace ember
