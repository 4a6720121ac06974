// The oneDNN Linear against the reference kernel. For bf16 the reference is given the same
// bf16-rounded inputs and weights, so the only remaining difference is f32 accumulation order:
// a relative tolerance of 1e-4 of the row's magnitude states that.
#include "core/kernels/onednn/linear.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/kernels/reference/reference_kernels.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/half.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember::onednn {
namespace {

struct Case {
  int64_t m, in, out;
  DType compute;
  DType source;
  WeightLayout layout;
  LinearActivation activation;
  bool bias;
  bool accumulate;
};

std::vector<float> Random(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

float RoundTo(DType type, float x) {
  if (type == DType::kBF16) return Bf16ToFloat(FloatToBf16(x));
  if (type == DType::kF16) return HalfToFloat(FloatToHalf(x));
  return x;
}

void ApplyActivation(LinearActivation a, std::vector<float>& y) {
  switch (a) {
    case LinearActivation::kGeluTanh:
      reference::GeluTanh(y.data(), static_cast<int64_t>(y.size()));
      break;
    case LinearActivation::kGeluErf:
      reference::GeluErf(y.data(), static_cast<int64_t>(y.size()));
      break;
    case LinearActivation::kSilu:
      reference::Silu(y.data(), static_cast<int64_t>(y.size()));
      break;
    case LinearActivation::kRelu:
      for (float& v : y) v = v > 0 ? v : 0;
      break;
    case LinearActivation::kNone:
      break;
  }
}

class LinearTest : public ::testing::TestWithParam<Case> {};

TEST_P(LinearTest, MatchesReference) {
  const Case c = GetParam();
  // Weights as the reference sees them: [out, in], rounded to the source and the compute type.
  std::vector<float> w = Random(static_cast<size_t>(c.in * c.out), 1, 0.05f);
  for (float& v : w) v = RoundTo(c.compute, RoundTo(c.source, v));
  // The same values in the source layout and dtype.
  std::vector<uint16_t> w16(w.size());
  std::vector<float> w32(w.size());
  for (int64_t o = 0; o < c.out; ++o) {
    for (int64_t i = 0; i < c.in; ++i) {
      const float v = w[o * c.in + i];
      const int64_t idx = c.layout == WeightLayout::kOutIn ? o * c.in + i : i * c.out + o;
      w32[idx] = v;
      w16[idx] = c.source == DType::kBF16 ? FloatToBf16(v) : FloatToHalf(v);
    }
  }
  std::vector<float> bias = Random(static_cast<size_t>(c.out), 2, 0.1f);
  std::vector<float> x = Random(static_cast<size_t>(c.m * c.in), 3, 1.0f);
  for (float& v : x) v = RoundTo(c.compute, v);
  std::vector<float> prior = Random(static_cast<size_t>(c.m * c.out), 4, 1.0f);

  LinearShape shape{c.in, c.out, c.compute, c.activation, c.bias};
  auto bytes = Linear::StorageBytes(shape);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  AlignedBuffer storage(*bytes);
  WeightSource source{c.source == DType::kF32 ? static_cast<const void*>(w32.data()) : w16.data(),
                      c.source, c.layout};
  auto linear = Linear::Create(shape, source, c.bias ? bias.data() : nullptr, storage.data());
  ASSERT_TRUE(linear.ok()) << linear.status();

  std::vector<uint16_t> x16(x.size());
  for (size_t i = 0; i < x.size(); ++i) x16[i] = FloatToBf16(x[i]);
  std::vector<float> y = prior;
  const void* input = c.compute == DType::kBF16 ? static_cast<const void*>(x16.data()) : x.data();
  ASSERT_TRUE((*linear)->Forward(input, c.m, y.data(), c.accumulate).ok());

  std::vector<float> expected(static_cast<size_t>(c.m * c.out));
  reference::Linear(x.data(), c.m, c.in, w.data(), c.bias ? bias.data() : nullptr, c.out,
                    expected.data());
  ApplyActivation(c.activation, expected);
  if (c.accumulate) {
    for (size_t i = 0; i < expected.size(); ++i) expected[i] += prior[i];
  }
  double max_rel = 0;
  for (int64_t r = 0; r < c.m; ++r) {
    double scale = 1e-3;
    for (int64_t j = 0; j < c.out; ++j)
      scale = std::max(scale, std::fabs(double{expected[r * c.out + j]}));
    for (int64_t j = 0; j < c.out; ++j) {
      const double diff = std::fabs(double{y[r * c.out + j]} - expected[r * c.out + j]);
      max_rel = std::max(max_rel, diff / scale);
    }
  }
  EXPECT_LT(max_rel, 1e-4) << "m=" << c.m << " in=" << c.in << " out=" << c.out;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, LinearTest,
    ::testing::Values(Case{1, 64, 96, DType::kF32, DType::kF32, WeightLayout::kOutIn,
                           LinearActivation::kNone, false, false},
                      Case{7, 64, 96, DType::kF32, DType::kF32, WeightLayout::kInOut,
                           LinearActivation::kNone, true, false},
                      Case{33, 128, 80, DType::kF32, DType::kBF16, WeightLayout::kOutIn,
                           LinearActivation::kGeluTanh, true, false},
                      Case{5, 96, 64, DType::kF32, DType::kF16, WeightLayout::kOutIn,
                           LinearActivation::kSilu, false, true},
                      Case{1, 256, 512, DType::kBF16, DType::kF32, WeightLayout::kOutIn,
                           LinearActivation::kNone, false, false},
                      Case{16, 256, 512, DType::kBF16, DType::kBF16, WeightLayout::kInOut,
                           LinearActivation::kGeluTanh, true, false},
                      Case{300, 128, 192, DType::kBF16, DType::kBF16, WeightLayout::kOutIn,
                           LinearActivation::kNone, true, true},
                      Case{3, 64, 64, DType::kBF16, DType::kF16, WeightLayout::kOutIn,
                           LinearActivation::kRelu, false, false},
                      Case{9, 64, 72, DType::kF32, DType::kF32, WeightLayout::kOutIn,
                           LinearActivation::kGeluErf, true, true}));

TEST(LinearValidationTest, RejectsBadShapesAndStorage) {
  EXPECT_THAT(Linear::StorageBytes({0, 4, DType::kF32}).status().message(),
              ::testing::HasSubstr("sizes must be positive"));
  EXPECT_THAT(Linear::StorageBytes({4, 4, DType::kF16}).status().message(),
              ::testing::HasSubstr("compute type F16"));
  std::vector<float> w(16, 0.0f);
  AlignedBuffer storage(4096);
  auto misaligned =
      Linear::Create({4, 4, DType::kF32}, {w.data(), DType::kF32, WeightLayout::kOutIn}, nullptr,
                     static_cast<char*>(storage.data()) + 4);
  EXPECT_THAT(misaligned.status().message(), ::testing::HasSubstr("64-byte aligned"));
}

// The packed layout chosen for large M must keep oneDNN's optimized kernel at M = 1 (decode).
TEST(LinearImplementationTest, SmallMUsesTheSameOptimizedKernel) {
  LinearShape shape{512, 512, DType::kF32};
  AlignedBuffer storage(*Linear::StorageBytes(shape));
  std::vector<float> w(512 * 512, 0.01f);
  auto linear =
      Linear::Create(shape, {w.data(), DType::kF32, WeightLayout::kOutIn}, nullptr, storage.data());
  ASSERT_TRUE(linear.ok());
  auto big = (*linear)->ImplementationName(256);
  auto one = (*linear)->ImplementationName(1);
  ASSERT_TRUE(big.ok() && one.ok());
  EXPECT_EQ(*big, *one);
  EXPECT_THAT(*one, ::testing::Not(::testing::HasSubstr("ref")));
}

TEST(LinearRowClassTest, ClassesCoverEveryMWithBoundedPadding) {
  int64_t previous = 0;
  for (int64_t m = 1; m <= 4096; ++m) {
    const int64_t c = Linear::RowClass(m);
    ASSERT_GE(c, m);
    ASSERT_GE(c, previous) << "classes must not decrease with m";
    ASSERT_EQ(Linear::RowClass(c), c) << "a class is its own class";
    if (m <= 16) {
      ASSERT_EQ(c, m) << "decode batches run unpadded";
    }
    ASSERT_LT(c - m, 32);
    previous = c;
  }
  const std::vector<int64_t> classes = Linear::RowClassesUpTo(512);
  EXPECT_EQ(classes.front(), 1);
  EXPECT_EQ(classes.back(), 512);
  // 1..16, 24..64 by 8, 96..512 by 32.
  EXPECT_EQ(classes.size(), 16u + 6u + 14u);
  for (int64_t m = 1; m <= 512; ++m) {
    EXPECT_TRUE(std::binary_search(classes.begin(), classes.end(), Linear::RowClass(m))) << m;
  }
}

// After Prepare, a Forward at a prepared class creates no primitive, and padding a batch to its
// class leaves its real rows equal (to f32 rounding) to the unpadded product.
TEST(LinearRowClassTest, PreparedClassesServeForwardsWithoutNewPrimitives) {
  LinearShape shape{64, 48, DType::kF32, LinearActivation::kNone, true};
  AlignedBuffer storage(*Linear::StorageBytes(shape));
  const std::vector<float> w = Random(64 * 48, 1, 0.1f), bias = Random(48, 2, 0.1f);
  auto linear = Linear::Create(shape, {w.data(), DType::kF32, WeightLayout::kOutIn}, bias.data(),
                               storage.data());
  ASSERT_TRUE(linear.ok()) << linear.status();
  for (int64_t m : Linear::RowClassesUpTo(100)) ASSERT_TRUE((*linear)->Prepare(m, false).ok());
  const int64_t prepared = (*linear)->primitives_created();
  EXPECT_EQ(prepared, static_cast<int64_t>(Linear::RowClassesUpTo(100).size()));

  const int64_t m = 67, padded = Linear::RowClass(m);  // 96
  std::vector<float> x = Random(static_cast<size_t>(padded * 64), 3, 1.0f);
  std::vector<float> y_padded(static_cast<size_t>(padded * 48)), y_exact(y_padded.size());
  ASSERT_TRUE((*linear)->Forward(x.data(), padded, y_padded.data()).ok());
  EXPECT_EQ((*linear)->primitives_created(), prepared);
  ASSERT_TRUE((*linear)->Forward(x.data(), m, y_exact.data()).ok());  // unprepared: makes one
  EXPECT_EQ((*linear)->primitives_created(), prepared + 1);
  for (int64_t i = 0; i < m * 48; ++i) {
    ASSERT_NEAR(y_padded[i], y_exact[i], 1e-5f * (1.0f + std::fabs(y_exact[i]))) << i;
  }
}

}  // namespace
}  // namespace ember::onednn
