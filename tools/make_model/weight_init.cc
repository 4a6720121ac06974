#include "tools/make_model/weight_init.h"

#include <cmath>
#include <cstring>

#include "core/tensor/half.h"

namespace ember::tools {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// SplitMix64's output function (Steele, Lea, Flood 2014).
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Approximately N(0, 1): the sum of four uniform 16-bit lanes, centred and scaled to unit
// variance. Every step before the final multiply is exact in float.
float UnitNormal(uint64_t bits) {
  const uint32_t sum =
      static_cast<uint32_t>(bits & 0xFFFF) + static_cast<uint32_t>((bits >> 16) & 0xFFFF) +
      static_cast<uint32_t>((bits >> 32) & 0xFFFF) + static_cast<uint32_t>(bits >> 48);
  // Each lane, as (lane + 0.5) / 65536, is uniform on (0, 1): mean 1/2, variance 1/12. The sum of
  // four has mean 2 and variance 1/3, hence the sqrt(3) scale.
  constexpr float kScale = 1.7320508075688772f / 65536.0f;
  return (static_cast<float>(sum) + 2.0f - 131072.0f) * kScale;
}

}  // namespace

uint64_t TensorStreamKey(uint64_t seed, absl::string_view tensor_name) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a
  for (const char c : tensor_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return Mix(seed * kGolden + Mix(hash));
}

void FillWeights(uint64_t key, InitKind init, double std, uint64_t first, absl::Span<float> out) {
  const float scale = static_cast<float>(std);
  const float offset = init == InitKind::kNormGain ? 1.0f : 0.0f;
  for (size_t i = 0; i < out.size(); ++i) {
    const uint64_t counter = first + i + 1;
    out[i] = offset + scale * UnitNormal(Mix(key + counter * kGolden));
  }
}

void FillSinusoids(int64_t dim, uint64_t first, absl::Span<float> out) {
  const auto width = static_cast<uint64_t>(dim);
  const uint64_t half = width / 2;
  for (size_t k = 0; k < out.size(); ++k) {
    const uint64_t index = first + k;
    const auto position = static_cast<double>(index / width);
    const uint64_t column = index % width;
    const uint64_t i = column < half ? column : column - half;
    const double angle =
        position / std::pow(10000.0, static_cast<double>(2 * i) / static_cast<double>(dim));
    out[k] = static_cast<float>(column < half ? std::sin(angle) : std::cos(angle));
  }
}

void AppendAsDType(absl::Span<const float> values, DType dtype, std::string& bytes) {
  const size_t start = bytes.size();
  bytes.resize(start + values.size() * DTypeSize(dtype));
  char* out = bytes.data() + start;
  // Bytes are assembled explicitly so the file is little-endian whatever the host.
  const auto put16 = [&out](uint16_t v) {
    *out++ = static_cast<char>(v & 0xFF);
    *out++ = static_cast<char>(v >> 8);
  };
  switch (dtype) {
    case DType::kF32:
      for (const float v : values) {
        uint32_t u;
        std::memcpy(&u, &v, sizeof(u));
        for (int k = 0; k < 4; ++k) *out++ = static_cast<char>((u >> (8 * k)) & 0xFF);
      }
      break;
    case DType::kBF16:
      for (const float v : values) put16(FloatToBf16(v));
      break;
    case DType::kF16:
      for (const float v : values) put16(FloatToHalf(v));
      break;
  }
}

}  // namespace ember::tools
