// The AVX512-VNNI implementation of QuantMatmul (quant_matmul.h). Compiled for any x86-64 target:
// the functions that use AVX-512 carry a target attribute and run only when BestQuantKernel found
// the instructions at run time.
//
// Per block of 16 output rows (two to eight blocks at a time, see Matmul) and up to 4 activation
// rows: for each group, vpdpbusd accumulates the unsigned weight codes (one 64-byte line = 4 k of
// 16 rows) against the activation's 4 signed bytes broadcast to every lane, into 16 int32 sums per
// activation row and block; the group's offset correction, the two scales and one fma fold them
// into the f32 outputs. Independent dot chains (at least 4 for one row, 8 for batches) hide
// vpdpbusd's latency; int4 lines are split into two int8 lines with an and and a shift.
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
// int8 lines carry half the k of int4 lines: 2048 bytes ahead kept more of its lines in flight when
// its decode ran two streams per core (session 11: 3 % faster at M=1, median of 5 alternating runs;
// int4 was 2-8 % slower at 2048 or 4096). With four streams (session 14) 1024 and 2048 were within
// the noise of two in-process alternations, 3072 slower.
constexpr int kPrefetchBytes = 1024;
constexpr int kPrefetchBytesInt8 = 2048;

// The scales are a second, slower stream (32 bytes a group beside 512-2048 bytes of codes) that the
// hardware prefetchers do not keep ahead of: fetch them this many groups early.
constexpr int64_t kScalePrefetchGroups = 8;

// acc += the dot products of a's unsigned bytes with b's signed bytes, 4 per int32 lane
// (_mm512_dpbusd_epi32). Written as inline assembly because GCC 12, given the intrinsic on arrays
// of accumulators, copies every accumulator into a scratch register before the instruction and back
// after it: 16 extra moves per 8 vpdpbusd, which made the batched kernel front-end bound (about
// 1.2 vpdpbusd a cycle where the core issues 2).
EMBER_AVX512_VNNI inline void DotAccumulate(__m512i& acc, __m512i a, __m512i b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}

// 16 bf16 scales as f32.
EMBER_AVX512_VNNI inline __m512 LoadScales(const uint16_t* s) {
  const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

// Every loop over rows, blocks and chains is unrolled (#pragma GCC unroll): indexing the
// accumulator arrays with a loop counter would keep them in memory, and each vpdpbusd would then
// wait on a store and a reload (this halved int4 decode speed before the pragmas).
// kRows activation rows (m0...) against kBlocks consecutive blocks of 16 output rows (b0...). Each
// (row, block) pair keeps kChains independent dot chains so that at least 4 are in flight for one
// row (decode) and 8 for batches: vpdpbusd's latency is several cycles and the core issues one or
// two a cycle. A weight line is loaded once for all rows and an activation quad once for all
// blocks, so a batch step costs kBlocks + kRows loads per kRows * kBlocks vpdpbusd.
// A second prefetch stream, into L2, that a tile's pass runs beside its own loads (Blocks says
// why): from `next` up to `end`, `per_line` lines for every weight line the pass reads.
struct AheadStream {
  const char* next = nullptr;
  const char* end = nullptr;
  int per_line = 0;
};

EMBER_AVX512_VNNI inline void PrefetchAhead(AheadStream& a) {
  for (int i = 0; i < a.per_line && a.next < a.end; ++i, a.next += 64) {
    _mm_prefetch(a.next, _MM_HINT_T1);
  }
}

template <int kBits, int kRows, int kBlocks>
EMBER_AVX512_VNNI void BlockRows(const PackedMatrix& w, int64_t b0, const QuantizedActivations& x,
                                 int64_t m0, float* y, int64_t ldy, AheadStream ahead = {}) {
  constexpr int kPairs = kRows * kBlocks;
  constexpr int kChains = kPairs >= 4 ? 1 : 4 / kPairs;
  constexpr int kOffset = kBits == 8 ? 128 : 8;
  // Wide tiles keep their f32 sums in y between groups (a load and a store per group) so the
  // registers hold the dot chains and weight lines instead.
  constexpr bool kSumsInMemory = kPairs > 8;
  const PackedGeometry& g = w.geometry;
  const int group = w.scheme.group_size;
  const uint8_t* codes[kBlocks];
  const uint16_t* scales[kBlocks];
#pragma GCC unroll 16
  for (int j = 0; j < kBlocks; ++j) {
    codes[j] = w.block(b0 + j);
    scales[j] = w.scales(b0 + j);
  }
  __mmask16 masks[kBlocks];
#pragma GCC unroll 16
  for (int j = 0; j < kBlocks; ++j) {
    const int64_t valid = std::min<int64_t>(kBlockRows, g.n - (b0 + j) * kBlockRows);
    masks[j] = static_cast<__mmask16>(valid == 16 ? 0xFFFF : (1u << valid) - 1);
  }
  const int8_t* q[kRows];
  const float* sa[kRows];
  const int32_t* sums[kRows];
  __m512 acc[kRows][kBlocks];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    q[r] = x.row_q(m0 + r);
    sa[r] = x.row_scale(m0 + r);
    sums[r] = x.row_sum(m0 + r);
#pragma GCC unroll 16
    for (int j = 0; j < kBlocks; ++j) {
      acc[r][j] = _mm512_setzero_ps();
      if constexpr (kSumsInMemory) {
        _mm512_mask_storeu_ps(y + (m0 + r) * ldy + (b0 + j) * kBlockRows, masks[j], acc[r][j]);
      }
    }
  }
  const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    const int64_t k0 = gi * group;
#pragma GCC unroll 16
    for (int j = 0; j < kBlocks; ++j) {
      _mm_prefetch(
          reinterpret_cast<const char*>(scales[j] + (gi + kScalePrefetchGroups) * kBlockRows),
          _MM_HINT_T0);
    }
    __m512i dot[kRows][kBlocks][kChains];
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
      for (int j = 0; j < kBlocks; ++j) {
#pragma GCC unroll 16
        for (int c = 0; c < kChains; ++c) dot[r][j][c] = _mm512_setzero_si512();
      }
    }
    if constexpr (kBits == 8) {
      const int count = group / 4;  // 64-byte lines of 4 k each
      for (int t = 0; t < count; t += kChains) {
#pragma GCC unroll 16
        for (int c = 0; c < kChains; ++c) {
          const int64_t line = (k0 / 4 + t + c) * 64;
          __m512i wv[kBlocks];
#pragma GCC unroll 16
          for (int j = 0; j < kBlocks; ++j) {
            _mm_prefetch(reinterpret_cast<const char*>(codes[j] + line + kPrefetchBytesInt8),
                         _MM_HINT_T0);
            wv[j] = _mm512_load_si512(codes[j] + line);
          }
          PrefetchAhead(ahead);
#pragma GCC unroll 16
          for (int r = 0; r < kRows; ++r) {
            const __m512i xv = Broadcast4(q[r] + k0 + 4 * (t + c));
#pragma GCC unroll 16
            for (int j = 0; j < kBlocks; ++j) {
              DotAccumulate(dot[r][j][c], wv[j], xv);
            }
          }
        }
      }
    } else {
      const int count = group / 8;  // 64-byte lines of 8 k each
      constexpr int kLinesPerStep = kChains >= 2 ? kChains / 2 : 1;
      for (int t = 0; t < count; t += kLinesPerStep) {
#pragma GCC unroll 16
        for (int c = 0; c < kLinesPerStep; ++c) {
          const int64_t line = (k0 / 8 + t + c) * 64;
          __m512i lo[kBlocks], hi[kBlocks];
#pragma GCC unroll 16
          for (int j = 0; j < kBlocks; ++j) {
            _mm_prefetch(reinterpret_cast<const char*>(codes[j] + line + kPrefetchBytes),
                         _MM_HINT_T0);
            const __m512i v = _mm512_load_si512(codes[j] + line);
            lo[j] = _mm512_and_si512(v, low_nibbles);
            hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibbles);
          }
          PrefetchAhead(ahead);
          const int64_t k = k0 + 8 * (t + c);
#pragma GCC unroll 16
          for (int r = 0; r < kRows; ++r) {
            const __m512i x_even = Broadcast4(q[r] + k);
            const __m512i x_odd = Broadcast4(q[r] + k + 4);
#pragma GCC unroll 16
            for (int j = 0; j < kBlocks; ++j) {
              DotAccumulate(dot[r][j][(2 * c) % kChains], lo[j], x_even);
              DotAccumulate(dot[r][j][(2 * c + 1) % kChains], hi[j], x_odd);
            }
          }
        }
      }
    }
    __m512 ws[kBlocks];
#pragma GCC unroll 16
    for (int j = 0; j < kBlocks; ++j) ws[j] = LoadScales(scales[j] + gi * kBlockRows);
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const __m512i correction = _mm512_set1_epi32(kOffset * sums[r][gi]);
      const __m512 row_scale = _mm512_set1_ps(sa[r][gi]);
#pragma GCC unroll 16
      for (int j = 0; j < kBlocks; ++j) {
        __m512i d = dot[r][j][0];
#pragma GCC unroll 16
        for (int c = 1; c < kChains; ++c) d = _mm512_add_epi32(d, dot[r][j][c]);
        d = _mm512_sub_epi32(d, correction);
        const __m512 s = _mm512_mul_ps(ws[j], row_scale);
        if constexpr (kSumsInMemory) {
          float* out = y + (m0 + r) * ldy + (b0 + j) * kBlockRows;
          const __m512 sum = _mm512_maskz_loadu_ps(masks[j], out);
          _mm512_mask_storeu_ps(out, masks[j], _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, sum));
        } else {
          acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), s, acc[r][j]);
        }
      }
    }
  }
  if constexpr (kSumsInMemory) return;
#pragma GCC unroll 16
  for (int j = 0; j < kBlocks; ++j) {
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      _mm512_mask_storeu_ps(y + (m0 + r) * ldy + (b0 + j) * kBlockRows, masks[j], acc[r][j]);
    }
  }
}

// Every activation row against kBlocks blocks from b0: kMaxRows rows at a time, then the tail.
// The first pass over a tile streams its weights from memory; the later ones read them back from
// L2 and are compute bound. So the later passes also prefetch the next tile (the thread's next one
// under the static schedule, stored right after this one) into L2, spread evenly over them, and
// the next tile's first pass no longer waits on DRAM. Session 12, in-process A/B over 16 layers of
// TinyLlama matrices: int4 g64 M=16 20.2 -> 17.5 ms a pass (min; median 21.0 -> 18.2), M=32 35.2
// -> 33.4; int8 g128 M=16 25.6 -> 24.2; M=8 (one later pass) unchanged.
template <int kBits, int kBlocks>
void Blocks(const PackedMatrix& w, int64_t b0, const QuantizedActivations& x, float* y,
            int64_t ldy) {
  constexpr int kMaxRows = 4;
  const int64_t passes = x.rows / kMaxRows;
  const int64_t blocks = w.geometry.padded_n / kBlockRows;
  const char* next = reinterpret_cast<const char*>(w.block(std::min(b0 + kBlocks, blocks)));
  const char* next_end = reinterpret_cast<const char*>(w.block(std::min(b0 + 2 * kBlocks, blocks)));
  const int64_t lines_per_pass = w.geometry.code_bytes / 64;  // of one block: what a pass loops
  const int64_t chunk = passes > 1 ? ((next_end - next) / (passes - 1) + 63) / 64 * 64 : 0;
  int64_t m0 = 0;
  for (int64_t pass = 0; pass < passes; ++pass, m0 += kMaxRows) {
    AheadStream ahead;
    if (pass > 0) {
      ahead.next = next + (pass - 1) * chunk;
      ahead.end = std::min(next_end, ahead.next + chunk);
      ahead.per_line = static_cast<int>((chunk / 64 + lines_per_pass - 1) / lines_per_pass);
    }
    BlockRows<kBits, kMaxRows, kBlocks>(w, b0, x, m0, y, ldy, ahead);
  }
  switch (x.rows - m0) {
    case 3:
      BlockRows<kBits, 3, kBlocks>(w, b0, x, m0, y, ldy);
      break;
    case 2:
      BlockRows<kBits, 2, kBlocks>(w, b0, x, m0, y, ldy);
      break;
    case 1:
      BlockRows<kBits, 1, kBlocks>(w, b0, x, m0, y, ldy);
      break;
    default:
      break;
  }
}

template <int kBits>
void Matmul(const QuantizedActivations& x, const PackedMatrix& w, float* y, int64_t ldy) {
  const int64_t blocks = w.geometry.padded_n / kBlockRows;
  if (x.rows == 1) {
    // Decode: several blocks (weight streams) per task, so each core keeps enough lines in flight.
    // int8: four. Session 11 (16 layers of TinyLlama matrices, medians of 21 passes) found two
    // faster than one in 5 of 5 runs (about 4 %) and four unevenly so; session 14, on one layer's
    // fused shapes (qkv, o, gate+up, down) alternating in one process, four beat two in 4 of 4 runs
    // (medians 15.1-15.6 vs 15.8-16.2 ms a pass; eight in between).
    // int4: eight. A line carries twice the k of an int8 line, so one stream per core left it
    // waiting on memory: a batch-1 pass ran at 0.81-0.84 of the read probe with one block per
    // task, 0.85-0.87 with two, 0.89-1.00 with four (ember_quant_matmul_bench --rows=1, int4 g64,
    // probe about 45 GB/s). Where the probe reads 60-70 GB/s, four fell to 0.66-0.73; eight were
    // faster in each of three in-process alternations (session 14, 16 layers, 30 passes each:
    // medians 2-4 % lower). Eight dot chains and eight f32 sums still fit the registers; sixteen
    // would not.
    constexpr int64_t kTaskBlocks = kBits == 8 ? 4 : 8;
    const int64_t tasks = (blocks + kTaskBlocks - 1) / kTaskBlocks;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < tasks; ++p) {
      int64_t b = kTaskBlocks * p;
      if (b + kTaskBlocks <= blocks) {
        BlockRows<kBits, 1, kTaskBlocks>(w, b, x, 0, y, ldy);
        continue;
      }
      for (; b + 4 <= blocks; b += 4) BlockRows<kBits, 1, 4>(w, b, x, 0, y, ldy);
      for (; b < blocks; ++b) BlockRows<kBits, 1, 1>(w, b, x, 0, y, ldy);
    }
    return;
  }
  // Batches. Up to kMaxQuadRows rows (small decode batches; for int8 also the decode +
  // prompt-chunk steps of continuous batching): four blocks at a time, so each loaded activation
  // quad feeds four weight lines (their sums wait in y between groups). Larger M (prefill) re-reads
  // each tile's weights for every 4 rows, and there pairs of blocks with sums in registers are
  // faster. ember_quant_matmul_bench, TinyLlama shapes, ms a pass, quads vs pairs: int8 g128
  // M=16 15.0 vs 16.9, M=32 23.1 vs 26.6, M=512 311 vs 297; int4 g64 M=16 11.5 vs 12.4, M=32 22.1
  // vs 21.7, M=512 341 vs 302. Session 11, int4 g64 over one layer's fused shapes (qkv, o, gate+up,
  // down), medians of 9 passes in two alternating runs: M=33 11.9/11.7 vs 9.9/9.4 ms,
  // M=40 12.8/13.6 vs 11.5/11.6, M=48 15.8/16.2 vs 13.8/13.7, M=64 18.7/20.7 vs 17.2/19.4 (quads
  // first); past 64 the two were within the host's noise. int4 changed sides once the later passes
  // prefetched the next tile (Blocks): session 14, in-process alternation over 16 layers, medians
  // of 10 passes, quads vs pairs: int4 g64 M=4 9.4 vs 11.3 ms, M=8 19.5 vs 20.6, M=12 19.6 vs 19.7,
  // M=16 24.3 vs 23.1 and 24.0 vs 22.8, M=32 53.5 vs 45.2, M=64 86.1 vs 82.5; int4 g32 M=16 28.5
  // vs 24.8, g128 21.0 vs 20.2; int8 g128 M=16 28.0 vs 27.9 (unchanged, so int8 keeps quads up to
  // 64).
  constexpr int64_t kMaxQuadRows = kBits == 8 ? 64 : 12;
  if (x.rows <= kMaxQuadRows) {
    const int64_t quads = (blocks + 3) / 4;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < quads; ++p) {
      int64_t b = 4 * p;
      if (b + 4 <= blocks) {
        Blocks<kBits, 4>(w, b, x, y, ldy);
        continue;
      }
      for (; b < blocks; ++b) Blocks<kBits, 1>(w, b, x, y, ldy);
    }
    return;
  }
  const int64_t pairs = (blocks + 1) / 2;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pairs; ++p) {
    if (2 * p + 1 < blocks) {
      Blocks<kBits, 2>(w, 2 * p, x, y, ldy);
    } else {
      Blocks<kBits, 1>(w, 2 * p, x, y, ldy);
    }
  }
}

}  // namespace

void QuantMatmulAvx512Vnni(const QuantizedActivations& x, const PackedMatrix& w, float* y,
                           int64_t ldy) {
  if (w.scheme.bits == 8) {
    Matmul<8>(x, w, y, ldy);
  } else {
    Matmul<4>(x, w, y, ldy);
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
