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

// Query rows attended together: each key and value row is loaded (and converted from bf16) once
// per block instead of once per query row, which is what makes long-prompt prefill affordable.
constexpr int64_t kRowBlock = 16;

// Scratch reused across a thread's work items.
struct AttentionScratch {
  std::vector<float> scores;  // [rows * group, max_visible]
  std::vector<float> kv_row;  // [head_dim]
  std::vector<float> acc;     // [rows * group, head_dim]
  std::vector<float> max;     // [rows * group]
  std::vector<float> sum;     // [rows * group]
};

// One (sequence, kv head, block of query rows) item: all query heads of the group, for every row
// of the block, attend over the keys each row may see (causal: row at position p sees [0, p]).
void AttendBlock(const float* q, int64_t q_stride, int64_t num_heads, const AttentionSequence& s,
                 int64_t first_row, int64_t rows, int64_t kv_head, const KvLayerView& c,
                 float scale, DType out_type, void* out, int64_t out_stride,
                 AttentionScratch& scratch) {
  const int64_t hd = c.head_dim;
  const int64_t group = num_heads / c.num_kv_heads;
  const int64_t lanes = rows * group;  // (row, head) pairs of this item
  const int64_t first_visible = s.past + (first_row - s.first_row) + 1;
  const int64_t max_visible = first_visible + rows - 1;
  scratch.scores.resize(static_cast<size_t>(lanes * max_visible));
  scratch.kv_row.resize(static_cast<size_t>(hd));
  scratch.acc.assign(static_cast<size_t>(lanes * hd), 0.0f);
  float* scores = scratch.scores.data();
  float* kv_row = scratch.kv_row.data();
  scratch.max.assign(static_cast<size_t>(lanes), -std::numeric_limits<float>::infinity());
  scratch.sum.resize(static_cast<size_t>(lanes));
  float* max = scratch.max.data();
  float* sum = scratch.sum.data();

  for (int64_t p = 0; p < max_visible; ++p) {
    const int64_t block = s.block_table[p / c.block_size];
    LoadRow(c.k, c.dtype, CacheOffset(c, block, kv_head, p % c.block_size), hd, kv_row);
    // Rows whose position is below p do not see key p.
    const int64_t first_seeing = std::max<int64_t>(0, p - first_visible + 1);
    for (int64_t r = first_seeing; r < rows; ++r) {
      const float* qrow = q + (first_row + r) * q_stride + kv_head * group * hd;
      for (int64_t g = 0; g < group; ++g) {
        const int64_t lane = r * group + g;
        const float v = Dot(qrow + g * hd, kv_row, hd) * scale;
        scores[lane * max_visible + p] = v;
        max[lane] = std::max(max[lane], v);
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < group; ++g) {
      const int64_t lane = r * group + g;
      sum[lane] = ExpAndSum(scores + lane * max_visible, first_visible + r, max[lane]);
    }
  }
  for (int64_t p = 0; p < max_visible; ++p) {
    const int64_t block = s.block_table[p / c.block_size];
    LoadRow(c.v, c.dtype, CacheOffset(c, block, kv_head, p % c.block_size), hd, kv_row);
    const int64_t first_seeing = std::max<int64_t>(0, p - first_visible + 1);
    for (int64_t r = first_seeing; r < rows; ++r) {
      for (int64_t g = 0; g < group; ++g) {
        const int64_t lane = r * group + g;
        Axpy(scores[lane * max_visible + p], kv_row, scratch.acc.data() + lane * hd, hd);
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < group; ++g) {
      const int64_t lane = r * group + g;
      float* a = scratch.acc.data() + lane * hd;
      const float inv = 1.0f / sum[lane];
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

void PagedAttention(const float* q, int64_t q_stride, int64_t num_heads,
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
    AttentionScratch scratch;
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      const Item& it = items[static_cast<size_t>(i)];
      AttendBlock(q, q_stride, num_heads, sequences[static_cast<size_t>(it.seq)], it.first_row,
                  it.rows, it.kv_head, cache, scale, out_type, out, out_stride, scratch);
    }
  }
}

}  // namespace ember
