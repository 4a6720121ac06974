// The AVX512-VNNI implementation of QuantMatmul (quant_matmul.h). Compiled for any x86-64 target:
// the functions that use AVX-512 carry a target attribute and run only when BestQuantKernel found
// the instructions at run time.
//
// Per block of 16 output rows and up to 4 activation rows: for each group, vpdpbusd accumulates the
// unsigned weight codes (one 64-byte line = 4 k of 16 rows) against the activation's 4 signed
// bytes broadcast to every lane, into 16 int32 sums per activation row; the group's offset
// correction, the two scales and one fma fold them into the f32 outputs. With one activation row
// (decode), four independent dot chains hide vpdpbusd's latency; int4 lines are split into two
// int8 lines with an and and a shift.
#include "core/kernels/quant/quant_matmul.h"

#if defined(__x86_64__)

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wmaybe-uninitialized
// reports inside the intrinsics' own bodies (a known false positive): silence it for this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EMBER_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace ember::quant {
namespace {

EMBER_AVX512_VNNI inline __m512i Broadcast4(const int8_t* p) {
  return _mm512_broadcastd_epi32(_mm_loadu_si32(p));
}

// How far ahead of the line being read the kernels prefetch the weight stream. In one A/B run of
// ember_quant_matmul_bench (8 layers, batch 1) it took a pass from 8.4 to 7.4 ms (int8 g128) and
// 6.9 to 6.2 ms (int4 g64); the machine's bandwidth swings as much between runs, so treat it as a
// hint, not a law.
constexpr int kPrefetchBytes = 1024;

// 16 bf16 scales as f32.
EMBER_AVX512_VNNI inline __m512 LoadScales(const uint16_t* s) {
  const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

template <int kBits, int kRows>
EMBER_AVX512_VNNI void BlockRows(const PackedMatrix& w, int64_t b, const QuantizedActivations& x,
                                 int64_t m0, float* y, int64_t ldy) {
  // Independent accumulation chains per activation row: 4 in all hide vpdpbusd's latency.
  constexpr int kChains = kRows >= 4 ? 1 : 4 / kRows;
  constexpr int kOffset = kBits == 8 ? 128 : 8;
  const PackedGeometry& g = w.geometry;
  const int group = w.scheme.group_size;
  const uint8_t* codes = w.block(b);
  const uint16_t* scales = w.scales(b);
  const int8_t* q[kRows];
  const float* sa[kRows];
  const int32_t* sums[kRows];
  __m512 acc[kRows];
  for (int r = 0; r < kRows; ++r) {
    q[r] = x.row_q(m0 + r);
    sa[r] = x.row_scale(m0 + r);
    sums[r] = x.row_sum(m0 + r);
    acc[r] = _mm512_setzero_ps();
  }
  const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    const int64_t k0 = gi * group;
    __m512i dot[kRows][kChains];
    for (int r = 0; r < kRows; ++r) {
      for (int c = 0; c < kChains; ++c) dot[r][c] = _mm512_setzero_si512();
    }
    if constexpr (kBits == 8) {
      const uint8_t* lines = codes + k0 * 16;  // 64 bytes per 4 k
      const int count = group / 4;
      for (int t = 0; t < count; t += kChains) {
        for (int c = 0; c < kChains; ++c) {
          _mm_prefetch(reinterpret_cast<const char*>(lines + (t + c) * 64 + kPrefetchBytes),
                       _MM_HINT_T0);
          const __m512i wv = _mm512_load_si512(lines + (t + c) * 64);
          for (int r = 0; r < kRows; ++r) {
            dot[r][c] = _mm512_dpbusd_epi32(dot[r][c], wv, Broadcast4(q[r] + k0 + 4 * (t + c)));
          }
        }
      }
    } else {
      const uint8_t* lines = codes + k0 * 8;  // 64 bytes per 8 k
      const int count = group / 8;
      constexpr int kLinesPerStep = kChains >= 2 ? kChains / 2 : 1;
      for (int t = 0; t < count; t += kLinesPerStep) {
        for (int c = 0; c < kLinesPerStep; ++c) {
          _mm_prefetch(reinterpret_cast<const char*>(lines + (t + c) * 64 + kPrefetchBytes),
                       _MM_HINT_T0);
          const __m512i v = _mm512_load_si512(lines + (t + c) * 64);
          const __m512i lo = _mm512_and_si512(v, low_nibbles);
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibbles);
          const int64_t k = k0 + 8 * (t + c);
          for (int r = 0; r < kRows; ++r) {
            __m512i& even = dot[r][(2 * c) % kChains];
            even = _mm512_dpbusd_epi32(even, lo, Broadcast4(q[r] + k));
            __m512i& odd = dot[r][(2 * c + 1) % kChains];
            odd = _mm512_dpbusd_epi32(odd, hi, Broadcast4(q[r] + k + 4));
          }
        }
      }
    }
    const __m512 ws = LoadScales(scales + gi * kBlockRows);
    for (int r = 0; r < kRows; ++r) {
      __m512i d = dot[r][0];
      for (int c = 1; c < kChains; ++c) d = _mm512_add_epi32(d, dot[r][c]);
      d = _mm512_sub_epi32(d, _mm512_set1_epi32(kOffset * sums[r][gi]));
      const __m512 s = _mm512_mul_ps(ws, _mm512_set1_ps(sa[r][gi]));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, acc[r]);
    }
  }
  const int64_t n0 = b * kBlockRows;
  const int64_t valid = std::min<int64_t>(kBlockRows, g.n - n0);
  const __mmask16 mask = static_cast<__mmask16>(valid == 16 ? 0xFFFF : (1u << valid) - 1);
  for (int r = 0; r < kRows; ++r) _mm512_mask_storeu_ps(y + (m0 + r) * ldy + n0, mask, acc[r]);
}

// All activation rows against block b, four at a time.
template <int kBits>
void Block(const PackedMatrix& w, int64_t b, const QuantizedActivations& x, float* y, int64_t ldy) {
  int64_t m0 = 0;
  for (; m0 + 4 <= x.rows; m0 += 4) BlockRows<kBits, 4>(w, b, x, m0, y, ldy);
  switch (x.rows - m0) {
    case 3:
      BlockRows<kBits, 3>(w, b, x, m0, y, ldy);
      break;
    case 2:
      BlockRows<kBits, 2>(w, b, x, m0, y, ldy);
      break;
    case 1:
      BlockRows<kBits, 1>(w, b, x, m0, y, ldy);
      break;
    default:
      break;
  }
}

}  // namespace

void QuantMatmulAvx512Vnni(const QuantizedActivations& x, const PackedMatrix& w, float* y,
                           int64_t ldy) {
  const int64_t blocks = w.geometry.padded_n / kBlockRows;
  const bool int8 = w.scheme.bits == 8;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    if (int8) {
      Block<8>(w, b, x, y, ldy);
    } else {
      Block<4>(w, b, x, y, ldy);
    }
  }
}

}  // namespace ember::quant

#else  // not x86-64: BestQuantKernel never selects this

namespace ember::quant {
void QuantMatmulAvx512Vnni(const QuantizedActivations& x, const PackedMatrix& w, float* y,
                           int64_t ldy) {
  QuantMatmulReference(x, w, y, ldy);
}
}  // namespace ember::quant

#endif
