#include "core/kernels/quant/quant_format.h"

#include "absl/strings/str_cat.h"
#include "core/tensor/half.h"

namespace ember::quant {

absl::Status ValidateScheme(const QuantScheme& scheme) {
  if (scheme.bits != 8 && scheme.bits != 4) {
    return absl::InvalidArgumentError(absl::StrCat("bits: must be 8 or 4, got ", scheme.bits));
  }
  if (scheme.group_size != 32 && scheme.group_size != 64 && scheme.group_size != 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_size: must be 32, 64 or 128, got ", scheme.group_size));
  }
  return absl::OkStatus();
}

std::string SchemeName(const QuantScheme& scheme) {
  return absl::StrCat("int", scheme.bits, " g", scheme.group_size, " (bf16 scales)");
}

PackedGeometry PackedGeometry::Of(int64_t n, int64_t k, const QuantScheme& scheme) {
  PackedGeometry g;
  g.n = n;
  g.k = k;
  g.padded_n = RoundUpTo(n, kBlockRows);
  g.padded_k = RoundUpTo(k, scheme.group_size);
  g.groups = g.padded_k / scheme.group_size;
  g.code_bytes = g.padded_k * kBlockRows * scheme.bits / 8;  // a multiple of 64: Kp >= 32
  g.scale_bytes = RoundUpTo(g.groups * kBlockRows * 2, 64);
  g.block_bytes = g.code_bytes + g.scale_bytes;
  g.total_bytes = g.block_bytes * (g.padded_n / kBlockRows);
  return g;
}

int PackedMatrix::Code(int64_t row, int64_t col) const {
  const uint8_t* codes = block(row / kBlockRows);
  const int64_t r = row % kBlockRows;
  if (scheme.bits == 8) {
    return static_cast<int>(codes[(col / 4) * 64 + r * 4 + col % 4]) - 128;
  }
  const int64_t line = col / 8, within = col % 8;
  const uint8_t byte = codes[line * 64 + r * 4 + within % 4];
  return static_cast<int>(within < 4 ? byte & 0x0F : byte >> 4) - 8;
}

float PackedMatrix::Scale(int64_t row, int64_t group) const {
  return Bf16ToFloat(scales(row / kBlockRows)[group * kBlockRows + row % kBlockRows]);
}

}  // namespace ember::quant
