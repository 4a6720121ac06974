// Paged attention against the reference causal attention on contiguous K/V. Blocks are assigned in
// a shuffled order so a wrong block-table lookup cannot pass by accident.
#include "core/kernels/paged_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/kernels/onednn/matmul_attention.h"
#include "core/kernels/reference/reference_kernels.h"
#include "core/tensor/half.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

struct SeqSpec {
  int64_t past;
  int64_t rows;
};

// poison_cache: every cache slot starts as NaN, so a kernel that lets an unwritten slot (past a
// sequence's last position in its last block) reach the output fails.
void RunCase(DType cache_type, int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
             int64_t block_size, const std::vector<SeqSpec>& specs, bool poison_cache = false) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto round = [&](float x) {
    return cache_type == DType::kBF16 ? Bf16ToFloat(FloatToBf16(x)) : x;
  };
  const int64_t kv_width = num_kv_heads * head_dim, q_width = num_heads * head_dim;
  int64_t total_blocks = 0;
  for (const auto& s : specs) total_blocks += (s.past + s.rows + block_size - 1) / block_size;
  std::vector<int32_t> physical(static_cast<size_t>(total_blocks));
  std::iota(physical.begin(), physical.end(), 0);
  std::shuffle(physical.begin(), physical.end(), rng);

  const size_t cache_elems =
      static_cast<size_t>(total_blocks * num_kv_heads * block_size * head_dim);
  const float fill = poison_cache ? NAN : 0.0f;
  std::vector<float> k32(cache_elems, fill), v32(cache_elems, fill);
  std::vector<uint16_t> k16(cache_elems, FloatToBf16(fill)), v16(cache_elems, FloatToBf16(fill));
  KvLayerView cache;
  cache.dtype = cache_type;
  cache.k = cache_type == DType::kF32 ? static_cast<void*>(k32.data()) : k16.data();
  cache.v = cache_type == DType::kF32 ? static_cast<void*>(v32.data()) : v16.data();
  cache.num_blocks = total_blocks;
  cache.block_size = block_size;
  cache.num_kv_heads = num_kv_heads;
  cache.head_dim = head_dim;

  // Full K/V histories per sequence; the past part is stored first (as an earlier step would),
  // then this step's rows through StoreKv.
  std::vector<AttentionSequence> seqs;
  std::vector<std::vector<float>> keys, values;
  int64_t rows = 0, next_block = 0;
  for (const auto& spec : specs) {
    AttentionSequence s;
    s.first_row = rows;
    s.num_rows = spec.rows;
    s.past = spec.past;
    s.block_table = physical.data() + next_block;
    next_block += (spec.past + spec.rows + block_size - 1) / block_size;
    rows += spec.rows;
    std::vector<float> k((spec.past + spec.rows) * kv_width), v(k.size());
    for (float& x : k) x = round(dist(rng));
    for (float& x : v) x = round(dist(rng));
    if (spec.past > 0) {
      AttentionSequence past = s;
      past.first_row = 0;
      past.num_rows = spec.past;
      past.past = 0;
      StoreKv(k.data(), v.data(), kv_width, {&past, 1}, cache);
    }
    keys.push_back(std::move(k));
    values.push_back(std::move(v));
    seqs.push_back(s);
  }
  std::vector<float> k_step(rows * kv_width), v_step(rows * kv_width), q(rows * q_width);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto& s = seqs[i];
    std::copy_n(keys[i].begin() + s.past * kv_width, s.num_rows * kv_width,
                k_step.begin() + s.first_row * kv_width);
    std::copy_n(values[i].begin() + s.past * kv_width, s.num_rows * kv_width,
                v_step.begin() + s.first_row * kv_width);
  }
  for (float& x : q) x = dist(rng);
  StoreKv(k_step.data(), v_step.data(), kv_width, seqs, cache);

  std::vector<float> got(rows * q_width, NAN);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  ASSERT_TRUE(PagedAttention(q.data(), q_width, num_heads, seqs, cache, scale, DType::kF32,
                             got.data(), q_width)
                  .ok());

  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto& s = seqs[i];
    std::vector<float> want(s.num_rows * q_width);
    reference::CausalAttention(q.data() + s.first_row * q_width, keys[i].data(), values[i].data(),
                               s.num_rows, s.past, num_heads, num_kv_heads, head_dim, want.data());
    for (int64_t j = 0; j < s.num_rows * q_width; ++j) {
      // Prompt chunks of a bf16 cache run as bf16 matmuls: queries and probabilities are rounded
      // to bf16 (relative error 2^-9 each) on top of the rounded K/V the reference sees too. On
      // these unit-normal inputs that costs up to ~2e-3 (seen: 1.4e-3); 1e-2 leaves margin while
      // still catching a wrong key, mask or scale (errors of order 1).
      const double tolerance =
          cache_type == DType::kBF16 && s.num_rows >= kMatmulAttentionMinRows ? 1e-2 : 1e-5;
      ASSERT_NEAR(got[s.first_row * q_width + j], want[j], tolerance)
          << "sequence " << i << " element " << j;
    }
  }
}

TEST(PagedAttentionTest, MixedPrefillAndDecodeMultiHeadF32) {
  ASSERT_NO_FATAL_FAILURE(RunCase(DType::kF32, 4, 4, 16, 4, {{0, 7}, {5, 1}, {13, 1}, {3, 6}}));
}

TEST(PagedAttentionTest, GroupedQueryHeadsF32) {
  ASSERT_NO_FATAL_FAILURE(RunCase(DType::kF32, 8, 2, 8, 16, {{0, 20}, {31, 1}, {16, 1}, {0, 1}}));
}

TEST(PagedAttentionTest, Bf16CacheMatchesReferenceOnRoundedValues) {
  ASSERT_NO_FATAL_FAILURE(RunCase(DType::kBF16, 4, 2, 32, 8, {{9, 3}, {0, 12}, {40, 1}}));
}

// Prompt chunks longer than the kernel's 16-row query blocks, starting mid-block, over several
// cache blocks, with a head size that is no multiple of a vector width.
TEST(PagedAttentionTest, LongChunksAcrossBlocksOddHeadSize) {
  ASSERT_NO_FATAL_FAILURE(
      RunCase(DType::kF32, 6, 3, 20, 16, {{5, 40}, {47, 1}, {0, 33}, {16, 17}}));
  ASSERT_NO_FATAL_FAILURE(RunCase(DType::kBF16, 6, 2, 20, 8, {{3, 37}, {70, 1}}));
}

// The head sizes with a vectorized kernel on AVX-512 CPUs (64, 128), in f32 and bf16 caches:
// decode rows of grouped-query and multi-head models, short prompt chunks (the per-row kernel),
// partial last blocks, and blocks larger than the kernel's 16-key tiles; the cache starts as NaN.
TEST(PagedAttentionTest, VectorizedHeadSizesIgnoreUnwrittenSlots) {
  for (DType type : {DType::kF32, DType::kBF16}) {
    SCOPED_TRACE(type == DType::kF32 ? "f32" : "bf16");
    ASSERT_NO_FATAL_FAILURE(
        RunCase(type, 32, 4, 64, 16, {{73, 1}, {0, 1}, {15, 1}, {16, 1}, {5, 11}, {40, 3}}, true));
    ASSERT_NO_FATAL_FAILURE(RunCase(type, 12, 12, 64, 16, {{30, 1}, {2, 5}, {47, 1}}, true));
    ASSERT_NO_FATAL_FAILURE(RunCase(type, 8, 2, 128, 32, {{70, 1}, {0, 20}, {33, 2}}, true));
    ASSERT_NO_FATAL_FAILURE(RunCase(type, 6, 3, 128, 16, {{100, 1}, {9, 7}}, true));
  }
}

// Chunks of several 128-token panels (the matmul path), after a cached past, beside decodes.
TEST(PagedAttentionTest, MultiPanelChunksMatchTheReference) {
  ASSERT_NO_FATAL_FAILURE(RunCase(DType::kF32, 8, 2, 64, 16, {{0, 300}, {37, 1}, {100, 140}}));
  ASSERT_NO_FATAL_FAILURE(RunCase(DType::kBF16, 4, 4, 32, 16, {{21, 200}, {5, 1}}));
}

// Panel key counts are rounded to classes so that prompts of any length share a bounded set of
// oneDNN primitives: at most 12.5% (or 15 keys) of padding, and few classes per context.
TEST(MatmulAttentionTest, KeyClassesAreFewAndPadLittle) {
  int64_t previous = 0, classes = 0;
  for (int64_t keys = 1; keys <= 8192; ++keys) {
    const int64_t c = onednn::KeyClass(keys);
    ASSERT_GE(c, keys);
    ASSERT_GE(c, previous);
    ASSERT_EQ(onednn::KeyClass(c), c);
    ASSERT_LE(c - keys, std::max<int64_t>(15, keys / 8)) << keys;
    if (c != previous) ++classes;
    previous = c;
  }
  EXPECT_EQ(classes, 16 + 8 * 5);  // 16..256 by 16, then 8 per octave up to 8192
}

}  // namespace
}  // namespace ember
