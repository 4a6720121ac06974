#include "core/kernels/paged_attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/kernels/convert.h"
#include "core/kernels/fast_math.h"
#include "core/kernels/vectorize.h"
#include "core/tensor/half.h"

namespace ember {
namespace {

// Loads head_dim values of a cache row as f32.
EMBER_VECTORIZED void LoadRow(const void* base, DType dtype, int64_t offset, int64_t n,
                              float* out) {
  if (dtype == DType::kF32) {
    std::memcpy(out, static_cast<const float*>(base) + offset, static_cast<size_t>(n) * 4);
    return;
  }
  const uint16_t* src = static_cast<const uint16_t*>(base) + offset;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    out[i] = std::bit_cast<float>(static_cast<uint32_t>(src[i]) << 16);
  }
}

// Element offset of (block, kv_head, slot, 0).
inline int64_t CacheOffset(const KvLayerView& c, int64_t block, int64_t kv_head, int64_t slot) {
  return ((block * c.num_kv_heads + kv_head) * c.block_size + slot) * c.head_dim;
}

EMBER_VECTORIZED float Dot(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

EMBER_VECTORIZED void Axpy(float alpha, const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
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

// One (sequence, kv head, query row) item: all query heads of the group attend over the visible
// keys, sharing each key/value load across the group.
void AttendOneRow(const float* q, int64_t q_stride, int64_t num_heads, const AttentionSequence& s,
                  int64_t row, int64_t kv_head, const KvLayerView& c, float scale, DType out_type,
                  void* out, int64_t out_stride, std::vector<float>& scores,
                  std::vector<float>& kbuf, std::vector<float>& acc) {
  const int64_t hd = c.head_dim;
  const int64_t group = num_heads / c.num_kv_heads;
  const int64_t visible = s.past + (row - s.first_row) + 1;
  scores.resize(static_cast<size_t>(group * visible));
  kbuf.resize(static_cast<size_t>(hd));
  acc.assign(static_cast<size_t>(group * hd), 0.0f);
  const float* qrow = q + row * q_stride + kv_head * group * hd;
  std::vector<float> max(static_cast<size_t>(group), -std::numeric_limits<float>::infinity());
  for (int64_t p = 0; p < visible; ++p) {
    const int64_t block = s.block_table[p / c.block_size];
    LoadRow(c.k, c.dtype, CacheOffset(c, block, kv_head, p % c.block_size), hd, kbuf.data());
    for (int64_t g = 0; g < group; ++g) {
      const float v = Dot(qrow + g * hd, kbuf.data(), hd) * scale;
      scores[g * visible + p] = v;
      max[g] = std::max(max[g], v);
    }
  }
  std::vector<float> sum(static_cast<size_t>(group), 0.0f);
  for (int64_t g = 0; g < group; ++g) {
    sum[g] = ExpAndSum(scores.data() + g * visible, visible, max[g]);
  }
  for (int64_t p = 0; p < visible; ++p) {
    const int64_t block = s.block_table[p / c.block_size];
    LoadRow(c.v, c.dtype, CacheOffset(c, block, kv_head, p % c.block_size), hd, kbuf.data());
    for (int64_t g = 0; g < group; ++g) {
      Axpy(scores[g * visible + p], kbuf.data(), acc.data() + g * hd, hd);
    }
  }
  for (int64_t g = 0; g < group; ++g) {
    const float inv = 1.0f / sum[g];
    for (int64_t i = 0; i < hd; ++i) acc[g * hd + i] *= inv;
    StoreAs(out_type, acc.data() + g * hd, hd, out, row * out_stride + (kv_head * group + g) * hd);
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

void PagedAttention(const float* q, int64_t q_stride, int64_t num_heads,
                    absl::Span<const AttentionSequence> sequences, const KvLayerView& cache,
                    float scale, DType out_type, void* out, int64_t out_stride) {
  // Work items: (sequence, row, kv head). Rows of a long prompt see different numbers of keys, so
  // scheduling is dynamic.
  struct Item {
    int32_t seq;
    int64_t row;
    int64_t kv_head;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const AttentionSequence& s = sequences[i];
    for (int64_t r = s.first_row; r < s.first_row + s.num_rows; ++r) {
      for (int64_t h = 0; h < cache.num_kv_heads; ++h)
        items.push_back({static_cast<int32_t>(i), r, h});
    }
  }
  const int64_t n = static_cast<int64_t>(items.size());
#pragma omp parallel
  {
    std::vector<float> scores, kbuf, acc;
#pragma omp for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; ++i) {
      const Item& it = items[i];
      AttendOneRow(q, q_stride, num_heads, sequences[it.seq], it.row, it.kv_head, cache, scale,
                   out_type, out, out_stride, scores, kbuf, acc);
    }
  }
}

}  // namespace ember
