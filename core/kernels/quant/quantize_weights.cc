#include "core/kernels/quant/quantize_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kernels/vectorize.h"
#include "core/tensor/half.h"

namespace ember::quant {
namespace {

// Round half to even for |x| < 2^22 without a libm call, so the loop vectorizes: adding 1.5 * 2^23
// leaves no fraction bits, and the FPU's default rounding is to nearest even.
inline float RoundHalfEven(float x) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (x + kMagic) - kMagic;
}

// One row's values as f32 (non-finite ones as 0), zero-padded to `padded_k`; returns how many were
// not finite.
int64_t GatherRow(const WeightMatrixSource& s, int64_t row, int64_t padded_k, float* out) {
  if (!s.k_major) {
    const size_t element = DTypeSize(s.dtype);
    WidenToF32(static_cast<const char*>(s.data) + static_cast<size_t>(row * s.k) * element, s.dtype,
               static_cast<size_t>(s.k), out);
  } else {
    for (int64_t c = 0; c < s.k; ++c) {
      const size_t index = static_cast<size_t>(c * s.n + row);
      switch (s.dtype) {
        case DType::kF32: {
          float v;
          std::memcpy(&v, static_cast<const char*>(s.data) + index * 4, 4);
          out[c] = v;
          break;
        }
        default: {
          uint16_t bits;
          std::memcpy(&bits, static_cast<const char*>(s.data) + index * 2, 2);
          out[c] = s.dtype == DType::kBF16 ? Bf16ToFloat(bits) : HalfToFloat(bits);
          break;
        }
      }
    }
  }
  std::fill(out + s.k, out + padded_k, 0.0f);
  int64_t bad = 0;
  for (int64_t c = 0; c < s.k; ++c) {
    if (!std::isfinite(out[c])) {
      out[c] = 0.0f;
      ++bad;
    }
  }
  return bad;
}

EMBER_VECTORIZED float AbsMax(const float* v, int64_t count) {
  float m = 0.0f;
  for (int64_t i = 0; i < count; ++i) m = std::max(m, std::fabs(v[i]));
  return m;
}

// q = clamp(round_half_even(v / scale), -qmax, qmax) + offset, for one group.
EMBER_VECTORIZED void Codes(const float* v, int64_t count, float scale, float qmax, int offset,
                            int32_t* out) {
  for (int64_t i = 0; i < count; ++i) {
    const float q = std::clamp(RoundHalfEven(v[i] / scale), -qmax, qmax);
    out[i] = static_cast<int32_t>(q) + offset;
  }
}

}  // namespace

absl::StatusOr<PackedMatrix> QuantizeWeights(const WeightMatrixSource& source,
                                             const QuantScheme& scheme, void* out,
                                             int64_t* non_finite) {
  if (absl::Status s = ValidateScheme(scheme); !s.ok()) return s;
  if (source.n <= 0 || source.k <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantize: sizes must be positive, got n=", source.n, " k=", source.k));
  }
  if (source.dtype != DType::kF32 && source.dtype != DType::kBF16 && source.dtype != DType::kF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantize: source dtype ", DTypeName(source.dtype), " (want F32, BF16, F16)"));
  }
  if (reinterpret_cast<uintptr_t>(out) % 64 != 0) {
    return absl::InvalidArgumentError("quantize: output must be 64-byte aligned");
  }
  PackedMatrix packed;
  packed.scheme = scheme;
  packed.geometry = PackedGeometry::Of(source.n, source.k, scheme);
  packed.data = static_cast<const uint8_t*>(out);
  const PackedGeometry& g = packed.geometry;
  const int64_t group = scheme.group_size;
  const int qmax = QMax(scheme);
  const int offset = CodeOffset(scheme);
  const int64_t blocks = g.padded_n / kBlockRows;
  int64_t bad_total = 0;
#pragma omp parallel reduction(+ : bad_total)
  {
    std::vector<float> row(static_cast<size_t>(g.padded_k));
    std::vector<int32_t> codes(static_cast<size_t>(g.padded_k));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t* block = static_cast<uint8_t*>(out) + b * g.block_bytes;
      auto* scales = reinterpret_cast<uint16_t*>(block + g.code_bytes);
      std::memset(block, 0, static_cast<size_t>(g.block_bytes));
      for (int64_t r = 0; r < kBlockRows; ++r) {
        const int64_t n = b * kBlockRows + r;
        if (n < source.n) {
          bad_total += GatherRow(source, n, g.padded_k, row.data());
        } else {
          std::fill(row.begin(), row.end(), 0.0f);  // padding rows: scale 0, code offset
        }
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          const float* v = row.data() + gi * group;
          const uint16_t scale_bits = FloatToBf16(AbsMax(v, group) / static_cast<float>(qmax));
          const float scale = Bf16ToFloat(scale_bits);
          scales[gi * kBlockRows + r] = scale_bits;
          int32_t* c = codes.data() + gi * group;
          if (scale > 0.0f) {
            Codes(v, group, scale, static_cast<float>(qmax), offset, c);
          } else {
            std::fill(c, c + group, offset);
          }
        }
        // Interleave the row's codes into the block's lines (see quant_format.h).
        if (scheme.bits == 8) {
          for (int64_t col = 0; col < g.padded_k; ++col) {
            block[(col / 4) * 64 + r * 4 + col % 4] = static_cast<uint8_t>(codes[col]);
          }
        } else {
          for (int64_t col = 0; col < g.padded_k; ++col) {
            const int64_t line = col / 8, within = col % 8;
            uint8_t& byte = block[line * 64 + r * 4 + within % 4];
            byte |= static_cast<uint8_t>(within < 4 ? codes[col] : codes[col] << 4);
          }
        }
      }
    }
  }
  if (non_finite != nullptr) *non_finite = bad_total;
  return packed;
}

}  // namespace ember::quant
