// Norms, RoPE and SwiGLU against the reference kernels (f32 output: within 1e-5 relative, the f32
// rounding of a different summation order; bf16 output: within bf16's half-ulp, 2^-8 relative).
#include <cmath>
#include <random>
#include <vector>

#include "core/kernels/activation.h"
#include "core/kernels/norm.h"
#include "core/kernels/reference/reference_kernels.h"
#include "core/kernels/rope.h"
#include "core/tensor/half.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double rel) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], rel * std::max(1.0, std::fabs(double{want[i]}))) << "at " << i;
  }
}

std::vector<float> FromBf16(const std::vector<uint16_t>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = Bf16ToFloat(v[i]);
  return out;
}

TEST(NormKernelsTest, LayerNormMatchesReference) {
  const int64_t m = 37, n = 300;
  auto x = Random(m * n, 1), gamma = Random(n, 2), beta = Random(n, 3);
  std::vector<float> want(m * n), got(m * n);
  reference::LayerNorm(x.data(), m, n, gamma.data(), beta.data(), 1e-5f, want.data());
  LayerNormRows(x.data(), m, n, gamma.data(), beta.data(), 1e-5f, DType::kF32, got.data());
  ExpectClose(got, want, 1e-5);
  std::vector<uint16_t> got16(m * n);
  LayerNormRows(x.data(), m, n, gamma.data(), beta.data(), 1e-5f, DType::kBF16, got16.data());
  ExpectClose(FromBf16(got16), want, 1.0 / 256);
}

TEST(NormKernelsTest, RmsNormMatchesReference) {
  const int64_t m = 64, n = 1024;  // big enough to take the parallel path
  auto x = Random(m * n, 4), gamma = Random(n, 5);
  std::vector<float> want(m * n), got(m * n);
  reference::RmsNorm(x.data(), m, n, gamma.data(), 1e-6f, want.data());
  RmsNormRows(x.data(), m, n, gamma.data(), 1e-6f, DType::kF32, got.data());
  ExpectClose(got, want, 1e-5);
}

TEST(RopeKernelTest, MatchesReferenceOnStridedRows) {
  const int64_t tokens = 9, heads = 3, head_dim = 16, stride = heads * head_dim + 8;
  std::vector<float> inv_freq(head_dim / 2);
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    inv_freq[i] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * i) / head_dim);
  }
  RopeTable table(inv_freq, 4096);
  std::vector<int32_t> positions = {0, 1, 2, 17, 100, 1000, 2047, 4095, 5};
  auto x = Random(tokens * stride, 6);
  std::vector<float> packed(tokens * heads * head_dim);
  for (int64_t t = 0; t < tokens; ++t) {
    std::copy_n(x.begin() + t * stride, heads * head_dim, packed.begin() + t * heads * head_dim);
  }
  reference::RopeRotateHalf(packed.data(), tokens, heads, head_dim, positions.data(),
                            inv_freq.data());
  ApplyRope(x.data(), tokens, stride, heads, positions.data(), table);
  std::vector<float> got(packed.size());
  for (int64_t t = 0; t < tokens; ++t) {
    std::copy_n(x.begin() + t * stride, heads * head_dim, got.begin() + t * heads * head_dim);
  }
  ExpectClose(got, packed, 1e-5);
}

TEST(ActivationKernelTest, SiluMulMatchesReference) {
  const int64_t m = 5, n = 700;
  auto gate_up = Random(m * 2 * n, 7);
  std::vector<float> want(m * n);
  for (int64_t i = 0; i < m; ++i) {
    std::vector<float> gate(gate_up.begin() + i * 2 * n, gate_up.begin() + i * 2 * n + n);
    reference::Silu(gate.data(), n);
    for (int64_t j = 0; j < n; ++j) want[i * n + j] = gate[j] * gate_up[i * 2 * n + n + j];
  }
  std::vector<float> got(m * n);
  SiluMul(gate_up.data(), m, n, DType::kF32, got.data());
  ExpectClose(got, want, 1e-5);
}

}  // namespace
}  // namespace ember
