// Quantized weight formats and the packed layout the quantized matmul kernels read.
//
// Scheme (symmetric, groups along K): every group of `group_size` consecutive input features of
// one output row shares one scale s = bf16(max|w| / qmax) (qmax 127 for int8, 7 for int4); each
// weight is q = clamp(round_half_even(w / s), -qmax, qmax), and stands for q * s. A group whose
// weights are all zero gets s = 0 and q = 0. Activations are quantized the same way at run time
// (activation_quant.h), per row and per group, to int8 with an f32 scale.
//
// Packed layout of W [N, K] (y = x W^T): K is padded with zeros to a multiple of group_size (Kp),
// N to a multiple of 16 (Np). The matrix is Np / 16 blocks of 16 output rows, each stored
// contiguously as its codes and then its scales (each part 64-byte aligned), so a kernel streams a
// block front to back:
//   codes, unsigned: u = q + offset (offset 128 for int8, 8 for int4). The kernels feed the codes
//     to vpdpbusd as its unsigned operand and the activations as its signed one, and subtract
//     offset * (the activation group's sum) once per group.
//     int8: [Kp / 4][16 rows][4] bytes: one 64-byte line holds 4 consecutive k of the 16 rows.
//     int4: [Kp / 8][64] bytes: byte (row r, i) of line t holds, in its low nibble, the code of
//       k = 8t + i and, in its high nibble, that of k = 8t + 4 + i (i < 4) for row r: a masked
//       shift splits one line into the two int8 lines of k-quads 2t and 2t + 1.
//   scales: bf16 [Kp / group_size][16 rows].
//
// Checkpoints already quantized (GPTQ / AWQ: `qweight` u4 packed along K, `scales` per
// (group, row), `qzeros` per (group, row)) map onto the same layout: their codes are already
// unsigned, so they are repacked into the lines above at load, and their zero points take the
// place of the constant offset (a per-(group, row) array beside the scales; the kernels' per-group
// correction becomes zero_point[row] * sum instead of offset * sum). The kernels' inner loops do
// not change.
#ifndef EMBER_CORE_KERNELS_QUANT_QUANT_FORMAT_H_
#define EMBER_CORE_KERNELS_QUANT_QUANT_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace ember::quant {

struct QuantScheme {
  int bits = 8;          // 8 or 4
  int group_size = 128;  // input features per scale: 32, 64 or 128
};

// INVALID_ARGUMENT naming the bad field.
absl::Status ValidateScheme(const QuantScheme& scheme);

// "int8 g128 (bf16 scales)", as ModelInfo.dtype and the metrics show it.
std::string SchemeName(const QuantScheme& scheme);

// Largest |q|: 127 (int8) or 7 (int4); and the code offset: 128 or 8.
inline int QMax(const QuantScheme& s) { return s.bits == 8 ? 127 : 7; }
inline int CodeOffset(const QuantScheme& s) { return s.bits == 8 ? 128 : 8; }

inline int64_t RoundUpTo(int64_t x, int64_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

// Rows per block: the kernels' output width (one zmm of f32).
inline constexpr int64_t kBlockRows = 16;

// The geometry of one packed matrix.
struct PackedGeometry {
  int64_t n = 0, k = 0;                // logical sizes
  int64_t padded_n = 0, padded_k = 0;  // Np, Kp
  int64_t groups = 0;                  // Kp / group_size
  int64_t code_bytes = 0;              // per block
  int64_t scale_bytes = 0;             // per block, 64-aligned
  int64_t block_bytes = 0;             // code_bytes + scale_bytes
  int64_t total_bytes = 0;             // all blocks

  static PackedGeometry Of(int64_t n, int64_t k, const QuantScheme& scheme);
};

// A packed matrix in memory (not owned).
struct PackedMatrix {
  QuantScheme scheme;
  PackedGeometry geometry;
  const uint8_t* data = nullptr;  // geometry.total_bytes, 64-byte aligned

  const uint8_t* block(int64_t b) const { return data + b * geometry.block_bytes; }
  const uint16_t* scales(int64_t b) const {
    return reinterpret_cast<const uint16_t*>(block(b) + geometry.code_bytes);
  }
  // The signed code q of W[row, col] (0 in padding), and its group's scale as f32: for tests and
  // the reference kernel.
  int Code(int64_t row, int64_t col) const;
  float Scale(int64_t row, int64_t group) const;
};

}  // namespace ember::quant

#endif  // EMBER_CORE_KERNELS_QUANT_QUANT_FORMAT_H_
