// Sanity properties of the reference kernels (the oracle itself). Their agreement with PyTorch is
// checked end to end by the model fidelity tests.
#include "core/kernels/reference/reference_kernels.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace ember::reference {
namespace {

TEST(ReferenceKernelsTest, LinearComputesXWTransposePlusBias) {
  const float x[] = {1, 2, 3, 4, 5, 6};  // [2, 3]
  const float w[] = {1, 0, 0, 0, 1, 1};  // [2, 3]: out0 = x0, out1 = x1 + x2
  const float b[] = {0.5f, -1};
  float y[4];
  Linear(x, 2, 3, w, b, 2, y);
  EXPECT_FLOAT_EQ(y[0], 1.5f);
  EXPECT_FLOAT_EQ(y[1], 4.0f);
  EXPECT_FLOAT_EQ(y[2], 4.5f);
  EXPECT_FLOAT_EQ(y[3], 10.0f);
}

TEST(ReferenceKernelsTest, LayerNormAndRmsNormNormalize) {
  const float x[] = {1, 2, 3, 4};
  const float ones[] = {1, 1, 1, 1};
  const float zeros[] = {0, 0, 0, 0};
  float y[4];
  LayerNorm(x, 1, 4, ones, zeros, 0.0f, y);
  EXPECT_NEAR(y[0] + y[1] + y[2] + y[3], 0.0, 1e-6);
  EXPECT_NEAR((y[0] * y[0] + y[1] * y[1] + y[2] * y[2] + y[3] * y[3]) / 4, 1.0, 1e-6);
  RmsNorm(x, 1, 4, ones, 0.0f, y);
  EXPECT_NEAR(y[3], 4.0 / std::sqrt(7.5), 1e-6);
}

TEST(ReferenceKernelsTest, ActivationsAtKnownPoints) {
  float v[] = {0.0f, 1.0f, -1.0f};
  GeluTanh(v, 3);
  EXPECT_FLOAT_EQ(v[0], 0.0f);
  EXPECT_NEAR(v[1], 0.8411920f, 1e-6);
  EXPECT_NEAR(v[2], -0.1588080f, 1e-6);
  float s[] = {0.0f, 2.0f};
  Silu(s, 2);
  EXPECT_FLOAT_EQ(s[0], 0.0f);
  EXPECT_NEAR(s[1], 2.0 / (1.0 + std::exp(-2.0)), 1e-6);
  float e[] = {1.0f};
  GeluErf(e, 1);
  EXPECT_NEAR(e[0], 0.8413447f, 1e-6);
}

TEST(ReferenceKernelsTest, SoftmaxSumsToOneAndIgnoresMinusInfinity) {
  float x[] = {1, 2, -INFINITY, 3};
  Softmax(x, 1, 4);
  EXPECT_FLOAT_EQ(x[2], 0.0f);
  EXPECT_NEAR(x[0] + x[1] + x[3], 1.0, 1e-6);
  EXPECT_GT(x[3], x[1]);
}

TEST(ReferenceKernelsTest, RopeIsIdentityAtZeroAndPreservesNorm) {
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};  // one token, two heads of 4
  const float inv_freq[] = {1.0f, 0.01f};
  const int32_t zero = 0;
  std::vector<float> y = x;
  RopeRotateHalf(y.data(), 1, 2, 4, &zero, inv_freq);
  EXPECT_EQ(y, x);
  const int32_t pos = 3;
  RopeRotateHalf(y.data(), 1, 2, 4, &pos, inv_freq);
  // Pair (0, 2) rotates by 3 rad: (1, 3) -> (cos3 - 3 sin3, 3 cos3 + sin3).
  EXPECT_NEAR(y[0], std::cos(3.0) - 3 * std::sin(3.0), 1e-5);
  EXPECT_NEAR(y[2], 3 * std::cos(3.0) + std::sin(3.0), 1e-5);
  EXPECT_NEAR(y[0] * y[0] + y[2] * y[2], 10.0, 1e-4);
}

TEST(ReferenceKernelsTest, CausalAttentionFirstTokenCopiesItsValue) {
  // Two tokens, 2 heads sharing one kv head (GQA), head_dim 2.
  const float q[] = {1, 0, 0, 1, 1, 0, 0, 1};
  const float k[] = {1, 0, 0, 1};
  const float v[] = {5, 6, 7, 8};
  float out[8];
  CausalAttention(q, k, v, 2, 0, 2, 1, 2, out);
  EXPECT_FLOAT_EQ(out[0], 5);  // token 0 sees only itself
  EXPECT_FLOAT_EQ(out[3], 6);
  // Token 1, head 0: scores (1, 0)/sqrt2 over values (5,6), (7,8).
  const double w0 = std::exp(1 / std::sqrt(2.0)), w1 = 1.0;
  EXPECT_NEAR(out[4], (5 * w0 + 7 * w1) / (w0 + w1), 1e-5);
}

}  // namespace
}  // namespace ember::reference
