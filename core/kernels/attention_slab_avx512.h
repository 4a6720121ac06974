// AVX-512 versions of the two inner loops of paged attention (paged_attention.cc), for head sizes
// 64 and 128: the scores of one query row's heads against one cache slab, and the slab's values
// weighted by their probabilities. Chosen at run time (HasAvx512AttentionSlabs), never from the
// build host; the portable loops serve every other CPU and head size.
//
// Why: a decode row's 8 query heads (a 32/4 grouped-query model) each re-widened every bf16 key and
// reduced each 64-wide dot product horizontally on its own; at 16 sequences of 74 positions that
// was 7 ms of a 43 ms int4 step. Here a slab's rows are widened once for all heads, and the dot
// products of 16 keys are reduced together by a transposing add tree (45 shuffles and adds instead
// of 16 separate reductions of about 8 each).
#ifndef EMBER_CORE_KERNELS_ATTENTION_SLAB_AVX512_H_
#define EMBER_CORE_KERNELS_ATTENTION_SLAB_AVX512_H_

#include <cstdint>

#include "core/tensor/dtype.h"

namespace ember {

// True when this CPU has AVX512F and head_dim is 64 or 128.
bool HasAvx512AttentionSlabs(int64_t head_dim);

// For each of `heads` query vectors q + h * hd: s[h * s_stride + j] = scale * (q_h . K[j]) for
// j < n, where K is the slab at element `offset` of k ([n, hd] of `dtype`: F32 or BF16).
void SlabScoresAvx512(const float* q, int64_t heads, const void* k, DType dtype, int64_t offset,
                      int64_t n, int64_t hd, float scale, float* s, int64_t s_stride);

// For each head h: acc[h * hd + d] += sum over j < n of p[h * p_stride + j] * V[j][d].
void SlabWeightedSumAvx512(const float* p, int64_t p_stride, int64_t heads, const void* v,
                           DType dtype, int64_t offset, int64_t n, int64_t hd, float* acc);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_ATTENTION_SLAB_AVX512_H_
