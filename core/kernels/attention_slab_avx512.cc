#include "core/kernels/attention_slab_avx512.h"

#if defined(__x86_64__)

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized (and,
// once inlined, -Wuninitialized) reports inside the intrinsics' own bodies (a known false
// positive): silence them for this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EMBER_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace ember {
namespace {

constexpr int64_t kKeys = 16;  // keys per reduction tree: one f32 vector of scores

// Rows [0, n) of the slab at `offset` as f32 into out[kKeys][kVecs * 16]; rows [n, kKeys) zero, so
// unwritten cache slots (whatever they hold) never meet an instruction.
template <int kVecs>
EMBER_AVX512 void WidenRows(const void* base, DType dtype, int64_t offset, int64_t n, float* out) {
  constexpr int64_t hd = kVecs * 16;
  if (dtype == DType::kBF16) {
    const uint16_t* src = static_cast<const uint16_t*>(base) + offset;
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 8
      for (int c = 0; c < kVecs; ++c) {
        const __m256i bits =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j * hd + c * 16));
        _mm512_store_ps(out + j * hd + c * 16,
                        _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16)));
      }
    }
  } else {
    const float* src = static_cast<const float*>(base) + offset;
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 8
      for (int c = 0; c < kVecs; ++c) {
        _mm512_store_ps(out + j * hd + c * 16, _mm512_loadu_ps(src + j * hd + c * 16));
      }
    }
  }
  for (int64_t j = n; j < kKeys; ++j) {
#pragma GCC unroll 8
    for (int c = 0; c < kVecs; ++c) _mm512_store_ps(out + j * hd + c * 16, _mm512_setzero_ps());
  }
}

// r[i] = the sum of v[i]'s 16 lanes, for 16 vectors: a transposing tree, so each level adds
// half-vectors of different inputs side by side instead of reducing one input at a time.
EMBER_AVX512 inline __m512 SumEach16(const __m512* v) {
  __m512 quads[4];  // quads[k] lane 4l + i: 128-bit lane l's partial sum of v[4k + i]
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m512* a = v + 4 * k;
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a[0], a[1]), _mm512_unpackhi_ps(a[0], a[1]));
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(a[2], a[3]), _mm512_unpackhi_ps(a[2], a[3]));
    quads[k] = _mm512_add_ps(
        _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
        _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))));
  }
  // Fold the four 128-bit lanes: [q0 l0+l2, q0 l1+l3, q1 l0+l2, q1 l1+l3], then the pairs.
  const __m512 q01 = _mm512_add_ps(_mm512_shuffle_f32x4(quads[0], quads[1], 0x44),
                                   _mm512_shuffle_f32x4(quads[0], quads[1], 0xEE));
  const __m512 q23 = _mm512_add_ps(_mm512_shuffle_f32x4(quads[2], quads[3], 0x44),
                                   _mm512_shuffle_f32x4(quads[2], quads[3], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(q01, q23, 0x88), _mm512_shuffle_f32x4(q01, q23, 0xDD));
}

template <int kVecs>
EMBER_AVX512 void Scores(const float* q, int64_t heads, const void* k, DType dtype, int64_t offset,
                         int64_t n, float scale, float* s, int64_t s_stride) {
  constexpr int64_t hd = kVecs * 16;
  alignas(64) float keys[kKeys * hd];
  const __m512 scale_v = _mm512_set1_ps(scale);
  for (int64_t j0 = 0; j0 < n; j0 += kKeys) {
    const int64_t count = std::min(kKeys, n - j0);
    WidenRows<kVecs>(k, dtype, offset + j0 * hd, count, keys);
    const __mmask16 mask = static_cast<__mmask16>(count == 16 ? 0xFFFF : (1u << count) - 1);
    for (int64_t h = 0; h < heads; ++h) {
      __m512 qv[kVecs];
#pragma GCC unroll 8
      for (int c = 0; c < kVecs; ++c) qv[c] = _mm512_loadu_ps(q + h * hd + c * 16);
      __m512 dots[kKeys];
#pragma GCC unroll 16
      for (int j = 0; j < kKeys; ++j) {
        __m512 acc = _mm512_mul_ps(qv[0], _mm512_load_ps(keys + j * hd));
#pragma GCC unroll 8
        for (int c = 1; c < kVecs; ++c) {
          acc = _mm512_fmadd_ps(qv[c], _mm512_load_ps(keys + j * hd + c * 16), acc);
        }
        dots[j] = acc;
      }
      _mm512_mask_storeu_ps(s + h * s_stride + j0, mask, _mm512_mul_ps(SumEach16(dots), scale_v));
    }
  }
}

template <int kVecs>
EMBER_AVX512 void WeightedSum(const float* p, int64_t p_stride, int64_t heads, const void* v,
                              DType dtype, int64_t offset, int64_t n, float* acc) {
  constexpr int64_t hd = kVecs * 16;
  constexpr int64_t kHeadsPerPass = 16 / kVecs;  // their sums fill 16 registers
  alignas(64) float values[kKeys * hd];
  for (int64_t j0 = 0; j0 < n; j0 += kKeys) {
    const int64_t count = std::min(kKeys, n - j0);
    WidenRows<kVecs>(v, dtype, offset + j0 * hd, count, values);
    int64_t h = 0;
    for (; h + kHeadsPerPass <= heads; h += kHeadsPerPass) {
      __m512 sums[kHeadsPerPass][kVecs];
#pragma GCC unroll 16
      for (int i = 0; i < kHeadsPerPass; ++i) {
#pragma GCC unroll 8
        for (int c = 0; c < kVecs; ++c) sums[i][c] = _mm512_loadu_ps(acc + (h + i) * hd + c * 16);
      }
      for (int64_t j = 0; j < count; ++j) {
        __m512 vv[kVecs];
#pragma GCC unroll 8
        for (int c = 0; c < kVecs; ++c) vv[c] = _mm512_load_ps(values + j * hd + c * 16);
#pragma GCC unroll 16
        for (int i = 0; i < kHeadsPerPass; ++i) {
          const __m512 w = _mm512_set1_ps(p[(h + i) * p_stride + j0 + j]);
#pragma GCC unroll 8
          for (int c = 0; c < kVecs; ++c) sums[i][c] = _mm512_fmadd_ps(w, vv[c], sums[i][c]);
        }
      }
#pragma GCC unroll 16
      for (int i = 0; i < kHeadsPerPass; ++i) {
#pragma GCC unroll 8
        for (int c = 0; c < kVecs; ++c) _mm512_storeu_ps(acc + (h + i) * hd + c * 16, sums[i][c]);
      }
    }
    for (; h < heads; ++h) {
      __m512 sums[kVecs];
#pragma GCC unroll 8
      for (int c = 0; c < kVecs; ++c) sums[c] = _mm512_loadu_ps(acc + h * hd + c * 16);
      for (int64_t j = 0; j < count; ++j) {
        const __m512 w = _mm512_set1_ps(p[h * p_stride + j0 + j]);
#pragma GCC unroll 8
        for (int c = 0; c < kVecs; ++c) {
          sums[c] = _mm512_fmadd_ps(w, _mm512_load_ps(values + j * hd + c * 16), sums[c]);
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < kVecs; ++c) _mm512_storeu_ps(acc + h * hd + c * 16, sums[c]);
    }
  }
}

}  // namespace

bool HasAvx512AttentionSlabs(int64_t head_dim) {
#if defined(__GNUC__)
  static const bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512 && (head_dim == 64 || head_dim == 128);
#else
  return false;
#endif
}

void SlabScoresAvx512(const float* q, int64_t heads, const void* k, DType dtype, int64_t offset,
                      int64_t n, int64_t hd, float scale, float* s, int64_t s_stride) {
  if (hd == 64) {
    Scores<4>(q, heads, k, dtype, offset, n, scale, s, s_stride);
  } else {
    Scores<8>(q, heads, k, dtype, offset, n, scale, s, s_stride);
  }
}

void SlabWeightedSumAvx512(const float* p, int64_t p_stride, int64_t heads, const void* v,
                           DType dtype, int64_t offset, int64_t n, int64_t hd, float* acc) {
  if (hd == 64) {
    WeightedSum<4>(p, p_stride, heads, v, dtype, offset, n, acc);
  } else {
    WeightedSum<8>(p, p_stride, heads, v, dtype, offset, n, acc);
  }
}

}  // namespace ember

#else  // not x86-64: HasAvx512AttentionSlabs() is false, so these are never called

namespace ember {
bool HasAvx512AttentionSlabs(int64_t) { return false; }
void SlabScoresAvx512(const float*, int64_t, const void*, DType, int64_t, int64_t, int64_t, float,
                      float*, int64_t) {}
void SlabWeightedSumAvx512(const float*, int64_t, int64_t, const void*, DType, int64_t, int64_t,
                           int64_t, float*) {}
}  // namespace ember

#endif
