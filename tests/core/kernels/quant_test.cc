// Quantized weights: the packing against an independent scalar statement of the scheme
// (quant_format.h), the activation quantization likewise, the portable reference matmul against
// the dequantized product in double, the AVX512-VNNI kernel against the reference bit for bit on
// odd shapes (tails in N and K, 1-17 activation rows, all-zero groups), and QuantLinear's epilogue.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/kernels/quant/activation_quant.h"
#include "core/kernels/quant/quant_format.h"
#include "core/kernels/quant/quant_linear.h"
#include "core/kernels/quant/quant_matmul.h"
#include "core/kernels/quant/quantize_weights.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/half.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember::quant {
namespace {

std::vector<float> RandomValues(size_t count, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// 64-byte aligned storage for a packed matrix.
struct Storage {
  explicit Storage(size_t bytes) : raw(bytes + 64) {}
  void* data() {
    auto p = reinterpret_cast<uintptr_t>(raw.data());
    return reinterpret_cast<void*>((p + 63) / 64 * 64);
  }
  std::vector<unsigned char> raw;
};

// The scheme, stated independently of the packing code: scale and code of W[n, c].
struct Expected {
  float scale;
  int code;
};
Expected ExpectedWeight(const std::vector<float>& w, int64_t k, int64_t n, int64_t c,
                        const QuantScheme& s) {
  const int64_t g0 = c / s.group_size * s.group_size;
  float max_abs = 0;
  for (int64_t i = g0; i < std::min<int64_t>(g0 + s.group_size, k); ++i) {
    const float v = w[static_cast<size_t>(n * k + i)];
    if (std::isfinite(v)) max_abs = std::max(max_abs, std::fabs(v));
  }
  const int qmax = s.bits == 8 ? 127 : 7;
  const float scale = Bf16ToFloat(FloatToBf16(max_abs / static_cast<float>(qmax)));
  if (scale == 0.0f || c >= k) return {scale, 0};
  const float v = w[static_cast<size_t>(n * k + c)];
  if (!std::isfinite(v)) return {scale, 0};
  const float q = std::nearbyint(v / scale);
  return {scale,
          static_cast<int>(std::clamp(q, -static_cast<float>(qmax), static_cast<float>(qmax)))};
}

const QuantScheme kSchemes[] = {{8, 32}, {8, 64}, {8, 128}, {4, 32}, {4, 64}, {4, 128}};

TEST(QuantFormatTest, SchemesAreValidatedAndNamed) {
  EXPECT_TRUE(ValidateScheme({8, 128}).ok());
  EXPECT_TRUE(ValidateScheme({4, 32}).ok());
  EXPECT_THAT(std::string(ValidateScheme({5, 64}).message()), ::testing::HasSubstr("bits:"));
  EXPECT_THAT(std::string(ValidateScheme({4, 48}).message()), ::testing::HasSubstr("group_size:"));
  EXPECT_EQ(SchemeName({4, 64}), "int4 g64 (bf16 scales)");
  const PackedGeometry g = PackedGeometry::Of(37, 100, {4, 64});
  EXPECT_EQ(g.padded_n, 48);
  EXPECT_EQ(g.padded_k, 128);
  EXPECT_EQ(g.groups, 2);
  EXPECT_EQ(g.code_bytes, 128 * 16 / 2);
  EXPECT_EQ(g.block_bytes % 64, 0);
}

TEST(QuantizeWeightsTest, CodesAndScalesFollowTheScheme) {
  const int64_t n = 37, k = 100;
  std::vector<float> w = RandomValues(static_cast<size_t>(n * k), 1);
  for (int64_t c = 0; c < 32; ++c) w[static_cast<size_t>(5 * k + c)] = 0.0f;  // an all-zero group
  w[7 * k + 3] = std::numeric_limits<float>::quiet_NaN();
  w[9 * k + 50] = std::numeric_limits<float>::infinity();
  for (const QuantScheme& s : kSchemes) {
    SCOPED_TRACE(SchemeName(s));
    Storage storage(static_cast<size_t>(PackedGeometry::Of(n, k, s).total_bytes));
    int64_t bad = 0;
    auto packed = QuantizeWeights({w.data(), DType::kF32, n, k, false}, s, storage.data(), &bad);
    ASSERT_TRUE(packed.ok()) << packed.status();
    EXPECT_EQ(bad, 2);
    int mismatches = 0;
    for (int64_t row = 0; row < n; ++row) {
      for (int64_t c = 0; c < packed->geometry.padded_k; ++c) {
        const Expected e = ExpectedWeight(w, k, row, c, s);
        const float scale = packed->Scale(row, c / s.group_size);
        ASSERT_TRUE(std::isfinite(scale));
        if (packed->Code(row, c) != e.code || scale != e.scale) ++mismatches;
      }
    }
    EXPECT_EQ(mismatches, 0);
    if (s.group_size == 32) {
      EXPECT_EQ(packed->Scale(5, 0), 0.0f);
    }
    // Padding rows quantize to zero.
    for (int64_t row = n; row < packed->geometry.padded_n; ++row) {
      EXPECT_EQ(packed->Code(row, 0), 0);
      EXPECT_EQ(packed->Scale(row, 0), 0.0f);
    }
  }
}

TEST(QuantizeWeightsTest, Bf16AndKMajorSourcesPackTheSameValues) {
  const int64_t n = 20, k = 70;
  std::vector<float> w = RandomValues(static_cast<size_t>(n * k), 2);
  std::vector<uint16_t> bf16(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    bf16[i] = FloatToBf16(w[i]);
    w[i] = Bf16ToFloat(bf16[i]);  // the values the bf16 source holds
  }
  std::vector<uint16_t> transposed(w.size());  // [k, n]
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < k; ++c) transposed[c * n + r] = bf16[r * k + c];
  }
  const QuantScheme s{4, 32};
  const size_t bytes = static_cast<size_t>(PackedGeometry::Of(n, k, s).total_bytes);
  Storage a(bytes), b(bytes), c(bytes);
  ASSERT_TRUE(QuantizeWeights({w.data(), DType::kF32, n, k, false}, s, a.data()).ok());
  ASSERT_TRUE(QuantizeWeights({bf16.data(), DType::kBF16, n, k, false}, s, b.data()).ok());
  ASSERT_TRUE(QuantizeWeights({transposed.data(), DType::kBF16, n, k, true}, s, c.data()).ok());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), bytes), 0);
  EXPECT_EQ(std::memcmp(a.data(), c.data(), bytes), 0);
}

TEST(QuantizeWeightsTest, BadArgumentsAreRefused) {
  Storage storage(1 << 16);
  std::vector<float> w(64, 1.0f);
  EXPECT_FALSE(
      QuantizeWeights({w.data(), DType::kF32, 0, 64, false}, {8, 32}, storage.data()).ok());
  EXPECT_FALSE(
      QuantizeWeights({w.data(), static_cast<DType>(42), 1, 64, false}, {8, 32}, storage.data())
          .ok());
  EXPECT_FALSE(QuantizeWeights({w.data(), DType::kF32, 1, 64, false}, {8, 32},
                               static_cast<char*>(storage.data()) + 4)
                   .ok());
}

TEST(ActivationQuantTest, RowsAndGroupsFollowTheScheme) {
  const int64_t rows = 3, k = 100;
  std::vector<float> x = RandomValues(static_cast<size_t>(rows * k), 3, 2.0f);
  for (int64_t c = 64; c < 100; ++c) x[static_cast<size_t>(1 * k + c)] = 0.0f;  // zero tail group
  const QuantScheme s{8, 32};
  const PackedGeometry g = PackedGeometry::Of(16, k, s);
  QuantizedActivations a;
  QuantizeActivations(x.data(), rows, k, s, g, &a);
  ASSERT_EQ(a.padded_k, 128);
  ASSERT_EQ(a.groups, 4);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t gi = 0; gi < a.groups; ++gi) {
      float max_abs = 0;
      for (int64_t c = gi * 32; c < std::min<int64_t>(k, (gi + 1) * 32); ++c) {
        max_abs = std::max(max_abs, std::fabs(x[static_cast<size_t>(r * k + c)]));
      }
      EXPECT_EQ(a.row_scale(r)[gi], max_abs / 127.0f) << r << " " << gi;
      int32_t sum = 0;
      for (int64_t c = gi * 32; c < (gi + 1) * 32; ++c) {
        int expected = 0;
        if (c < k && max_abs > 0) {
          expected = static_cast<int>(
              std::clamp(std::nearbyint(x[static_cast<size_t>(r * k + c)] * (127.0f / max_abs)),
                         -127.0f, 127.0f));
        }
        EXPECT_EQ(a.row_q(r)[c], expected) << r << " " << c;
        sum += expected;
      }
      EXPECT_EQ(a.row_sum(r)[gi], sum);
    }
  }
  EXPECT_EQ(a.row_scale(1)[2], 0.0f);
  EXPECT_EQ(a.row_scale(1)[3], 0.0f);
}

// Rows that exercise every branch of the activation quantizer: normal values, an all-zero group,
// NaN and infinities (quantized as 0), huge and subnormal values, and values that land exactly on
// a half-way code (a group whose max is 127 has inverse scale 1, so 0.5, 1.5, -2.5 round to even).
std::vector<float> AwkwardActivations(int64_t rows, int64_t k, int group, uint32_t seed) {
  std::vector<float> x = RandomValues(static_cast<size_t>(rows * k), seed, 3.0f);
  std::mt19937 rng(seed + 1);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            1e30f,
                            -1e-40f,
                            -0.0f};
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * k;
    switch (r % 4) {
      case 0:  // an all-zero first group
        std::fill(row, row + std::min<int64_t>(k, group), 0.0f);
        break;
      case 1:  // half-way values under a max of 127
        for (int64_t c = 0; c < k; ++c) row[c] = static_cast<float>(c % 7) - 2.5f;
        row[k / 2] = 127.0f;
        break;
      case 2:  // special values here and there
        for (int i = 0; i < 4; ++i) {
          row[std::uniform_int_distribution<int64_t>(0, k - 1)(rng)] = specials[(r + i) % 6];
        }
        break;
      default:
        break;
    }
  }
  return x;
}

void ExpectSameActivations(const QuantizedActivations& a, const QuantizedActivations& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.groups, b.groups);
  ASSERT_EQ(a.padded_k, b.padded_k);
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t c = 0; c < a.padded_k; ++c) {
      ASSERT_EQ(a.row_q(r)[c], b.row_q(r)[c]) << "row " << r << " col " << c;
    }
    for (int64_t gi = 0; gi < a.groups; ++gi) {
      ASSERT_EQ(std::memcmp(&a.row_scale(r)[gi], &b.row_scale(r)[gi], sizeof(float)), 0)
          << "scale of row " << r << " group " << gi << ": " << a.row_scale(r)[gi] << " vs "
          << b.row_scale(r)[gi];
      ASSERT_EQ(a.row_sum(r)[gi], b.row_sum(r)[gi]) << "row " << r << " group " << gi;
    }
  }
}

// The AVX-512 quantizer against the portable one, bit for bit, in f32 and bf16, every group size,
// K with and without a partial last group.
TEST(ActivationQuantTest, Avx512MatchesTheReferenceBitForBit) {
  if (!HasAvx512ActivationQuant()) GTEST_SKIP() << "this CPU has no AVX512F/BW";
  for (int group : {32, 64, 128}) {
    for (int64_t k : {1, 15, 16, 17, 31, 32, 33, 100, 128, 129, 200, 2048, 2065}) {
      SCOPED_TRACE(testing::Message() << "group " << group << " k " << k);
      const int64_t rows = 8;
      const QuantScheme scheme{8, group};
      const PackedGeometry g = PackedGeometry::Of(16, k, scheme);
      const std::vector<float> x = AwkwardActivations(rows, k, group, static_cast<uint32_t>(k));
      std::vector<uint16_t> x_bf16(x.size());
      for (size_t i = 0; i < x.size(); ++i) x_bf16[i] = FloatToBf16(x[i]);
      for (DType dtype : {DType::kF32, DType::kBF16}) {
        const void* data = dtype == DType::kF32 ? static_cast<const void*>(x.data())
                                                : static_cast<const void*>(x_bf16.data());
        QuantizedActivations fast, reference;
        for (QuantizedActivations* a : {&fast, &reference}) {
          ReserveActivations(rows, g, a);
          a->rows = rows;
          a->padded_k = g.padded_k;
          a->groups = g.groups;
          // Poison the buffers: every code, scale and sum must be written.
          std::fill(a->q.begin(), a->q.end(), int8_t{99});
          std::fill(a->scale.begin(), a->scale.end(), -1.0f);
          std::fill(a->sum.begin(), a->sum.end(), -12345);
        }
        for (int64_t r = 0; r < rows; ++r) {
          QuantizeActivationRowAvx512(data, dtype, r, k, scheme, &fast);
          QuantizeActivationRowReference(data, dtype, r, k, scheme, &reference);
        }
        ExpectSameActivations(fast, reference);
      }
    }
  }
}

// bf16 activations quantize exactly as their f32 widening; a large input (row-parallel) exactly
// as row by row.
TEST(ActivationQuantTest, Bf16AndParallelRowsGiveTheSameCodes) {
  const int64_t rows = 40, k = 2100;
  const QuantScheme scheme{4, 64};
  const PackedGeometry g = PackedGeometry::Of(16, k, scheme);
  std::vector<float> x = AwkwardActivations(rows, k, 64, 5);
  std::vector<uint16_t> x_bf16(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x_bf16[i] = FloatToBf16(x[i]);
    x[i] = Bf16ToFloat(x_bf16[i]);
  }
  QuantizedActivations from_bf16, from_f32, by_row;
  QuantizeActivations(x_bf16.data(), DType::kBF16, rows, k, scheme, g, &from_bf16);
  QuantizeActivations(x.data(), rows, k, scheme, g, &from_f32);
  ExpectSameActivations(from_bf16, from_f32);
  for (int64_t r = 0; r < rows; ++r) {
    QuantizeActivations(x.data() + r * k, 1, k, scheme, g, &by_row);
    for (int64_t c = 0; c < g.padded_k; ++c) {
      ASSERT_EQ(by_row.row_q(0)[c], from_f32.row_q(r)[c]) << r << " " << c;
    }
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      ASSERT_EQ(by_row.row_scale(0)[gi], from_f32.row_scale(r)[gi]) << r << " " << gi;
      ASSERT_EQ(by_row.row_sum(0)[gi], from_f32.row_sum(r)[gi]) << r << " " << gi;
    }
  }
}

struct Problem {
  int64_t m, n, k;
  QuantScheme scheme;
};

struct Prepared {
  Storage storage;
  PackedMatrix w;
  QuantizedActivations x;
};

std::unique_ptr<Prepared> Prepare(const Problem& p, uint32_t seed) {
  std::vector<float> w = RandomValues(static_cast<size_t>(p.n * p.k), seed);
  // An all-zero group in the first row and an all-zero activation row.
  for (int64_t c = 0; c < std::min<int64_t>(p.k, p.scheme.group_size); ++c) w[c] = 0.0f;
  std::vector<float> x = RandomValues(static_cast<size_t>(p.m * p.k), seed + 1);
  if (p.m > 2) std::fill(x.begin() + p.k, x.begin() + 2 * p.k, 0.0f);
  const PackedGeometry g = PackedGeometry::Of(p.n, p.k, p.scheme);
  auto out =
      std::make_unique<Prepared>(Prepared{Storage(static_cast<size_t>(g.total_bytes)), {}, {}});
  auto packed =
      QuantizeWeights({w.data(), DType::kF32, p.n, p.k, false}, p.scheme, out->storage.data());
  EXPECT_TRUE(packed.ok()) << packed.status();
  out->w = *packed;
  QuantizeActivations(x.data(), p.m, p.k, p.scheme, g, &out->x);
  return out;
}

TEST(QuantMatmulTest, ReferenceIsTheDequantizedProduct) {
  for (const QuantScheme& s : kSchemes) {
    SCOPED_TRACE(SchemeName(s));
    const Problem p{3, 37, 300, s};
    auto prep = Prepare(p, 10);
    std::vector<float> y(static_cast<size_t>(p.m * p.n));
    QuantMatmulReference(prep->x, prep->w, y.data(), p.n);
    for (int64_t m = 0; m < p.m; ++m) {
      for (int64_t n = 0; n < p.n; ++n) {
        double exact = 0, magnitude = 0;
        for (int64_t c = 0; c < p.k; ++c) {
          const double term = static_cast<double>(prep->w.Code(n, c)) *
                              prep->w.Scale(n, c / s.group_size) * prep->x.row_q(m)[c] *
                              prep->x.row_scale(m)[c / s.group_size];
          exact += term;
          magnitude += std::fabs(term);
        }
        EXPECT_NEAR(y[static_cast<size_t>(m * p.n + n)], exact, 1e-6 * magnitude + 1e-30)
            << m << " " << n;
      }
    }
  }
}

TEST(QuantMatmulTest, Avx512VnniMatchesTheReferenceBitForBit) {
  if (BestQuantKernel() != QuantKernel::kAvx512Vnni) {
    GTEST_SKIP() << "this CPU has no AVX512-VNNI: the reference kernel serves it";
  }
  int problems = 0;
  for (const QuantScheme& s : kSchemes) {
    for (int64_t m : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64}) {
      // n = 213 is 14 blocks: batch-1 int4 runs one task of eight, then four, then two single
      // blocks (the last one partial).
      for (const auto& [n, k] : std::vector<std::pair<int64_t, int64_t>>{
               {16, 32}, {37, 100}, {300, 257}, {64, 2055}, {213, 96}}) {
        SCOPED_TRACE(::testing::Message()
                     << SchemeName(s) << " m=" << m << " n=" << n << " k=" << k);
        const Problem p{m, n, k, s};
        auto prep = Prepare(p, static_cast<uint32_t>(m * 1000 + n + k));
        const int64_t ldy = n + 3;  // a row stride wider than n: columns past n stay untouched
        std::vector<float> ref(static_cast<size_t>(m * ldy), -7.0f);
        std::vector<float> fast(static_cast<size_t>(m * ldy), -7.0f);
        QuantMatmulReference(prep->x, prep->w, ref.data(), ldy);
        QuantMatmulAvx512Vnni(prep->x, prep->w, fast.data(), ldy);
        ASSERT_EQ(std::memcmp(ref.data(), fast.data(), ref.size() * sizeof(float)), 0);
        ++problems;
      }
    }
  }
  RecordProperty("problems", problems);
}

TEST(QuantLinearTest, BiasActivationAndAccumulateAreApplied) {
  const int64_t m = 5, in = 96, out = 40;
  std::vector<float> w = RandomValues(static_cast<size_t>(out * in), 20);
  std::vector<float> bias = RandomValues(static_cast<size_t>(out), 21);
  std::vector<float> x = RandomValues(static_cast<size_t>(m * in), 22);
  for (onednn::LinearActivation act :
       {onednn::LinearActivation::kNone, onednn::LinearActivation::kGeluTanh,
        onednn::LinearActivation::kSilu, onednn::LinearActivation::kRelu}) {
    QuantLinearShape shape{in, out, {8, 32}, act, true};
    Storage storage(*QuantLinear::StorageBytes(shape));
    auto layer = QuantLinear::Create(shape, {w.data(), DType::kF32, out, in, false}, bias.data(),
                                     storage.data());
    ASSERT_TRUE(layer.ok()) << layer.status();
    std::vector<float> plain(static_cast<size_t>(m * out));
    QuantizedActivations qx;
    QuantizeActivations(x.data(), m, in, shape.scheme, (*layer)->packed().geometry, &qx);
    QuantMatmulReference(qx, (*layer)->packed(), plain.data(), out);
    std::vector<float> y(static_cast<size_t>(m * out), 0.5f);
    ASSERT_TRUE((*layer)->Forward(x.data(), m, y.data(), /*accumulate=*/true).ok());
    for (int64_t i = 0; i < m * out; ++i) {
      const float pre = plain[static_cast<size_t>(i)] + bias[static_cast<size_t>(i % out)];
      float expected = pre;
      if (act == onednn::LinearActivation::kGeluTanh) {
        expected = 0.5f * pre *
                   (1.0f + std::tanh(0.7978845608028654f * (pre + 0.044715f * pre * pre * pre)));
      } else if (act == onednn::LinearActivation::kSilu) {
        expected = pre / (1.0f + std::exp(-pre));
      } else if (act == onednn::LinearActivation::kRelu) {
        expected = std::max(pre, 0.0f);
      }
      EXPECT_FLOAT_EQ(y[static_cast<size_t>(i)], 0.5f + expected) << i;
    }
  }
}

TEST(QuantLinearTest, ErrorAgainstFloatWeightsIsWithinTheSchemesResolution) {
  const int64_t m = 4, in = 512, out = 64;
  std::vector<float> w = RandomValues(static_cast<size_t>(out * in), 30, 0.05f);
  std::vector<float> x = RandomValues(static_cast<size_t>(m * in), 31);
  std::vector<double> exact(static_cast<size_t>(m * out));
  double norm = 0;
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < out; ++c) {
      double s = 0;
      for (int64_t i = 0; i < in; ++i) s += double{x[r * in + i]} * w[c * in + i];
      exact[static_cast<size_t>(r * out + c)] = s;
      norm += s * s;
    }
  }
  for (const auto& [scheme, bound] :
       std::vector<std::pair<QuantScheme, double>>{{{8, 128}, 0.01}, {{4, 64}, 0.15}}) {
    QuantLinearShape shape{in, out, scheme, onednn::LinearActivation::kNone, false};
    Storage storage(*QuantLinear::StorageBytes(shape));
    auto layer = QuantLinear::Create(shape, {w.data(), DType::kF32, out, in, false}, nullptr,
                                     storage.data());
    ASSERT_TRUE(layer.ok());
    std::vector<float> y(static_cast<size_t>(m * out));
    ASSERT_TRUE((*layer)->Forward(x.data(), m, y.data()).ok());
    double err = 0;
    for (size_t i = 0; i < y.size(); ++i) err += (y[i] - exact[i]) * (y[i] - exact[i]);
    const double relative = std::sqrt(err / norm);
    EXPECT_LT(relative, bound) << SchemeName(scheme);
    RecordProperty(SchemeName(scheme), std::to_string(relative));
  }
}

// bf16 activations (the model's bf16 compute type) are widened exactly before quantization: the
// output equals that of the same values given as f32, bit for bit.
TEST(QuantLinearTest, Bf16ActivationsGiveTheOutputOfTheirF32Values) {
  const int64_t m = 3, in = 200, out = 37;
  std::vector<float> w = RandomValues(static_cast<size_t>(out * in), 40, 0.05f);
  std::vector<float> x = RandomValues(static_cast<size_t>(m * in), 41);
  std::vector<uint16_t> x_bf16(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x_bf16[i] = FloatToBf16(x[i]);
    x[i] = Bf16ToFloat(x_bf16[i]);
  }
  QuantLinearShape f32_shape{in, out, {4, 64}, onednn::LinearActivation::kNone, false};
  QuantLinearShape bf16_shape = f32_shape;
  bf16_shape.input = DType::kBF16;
  Storage f32_storage(*QuantLinear::StorageBytes(f32_shape));
  Storage bf16_storage(*QuantLinear::StorageBytes(bf16_shape));
  auto f32_layer = QuantLinear::Create(f32_shape, {w.data(), DType::kF32, out, in, false}, nullptr,
                                       f32_storage.data());
  auto bf16_layer = QuantLinear::Create(bf16_shape, {w.data(), DType::kF32, out, in, false},
                                        nullptr, bf16_storage.data());
  ASSERT_TRUE(f32_layer.ok() && bf16_layer.ok());
  std::vector<float> from_f32(static_cast<size_t>(m * out)), from_bf16(from_f32.size());
  ASSERT_TRUE((*f32_layer)->Forward(x.data(), m, from_f32.data()).ok());
  ASSERT_TRUE((*bf16_layer)->Prepare(m, false).ok());
  ASSERT_TRUE((*bf16_layer)->Forward(x_bf16.data(), m, from_bf16.data()).ok());
  EXPECT_EQ(from_bf16, from_f32);
  EXPECT_EQ((*bf16_layer)->primitives_created(), 0);
  QuantLinearShape f16_shape = f32_shape;
  f16_shape.input = DType::kF16;
  EXPECT_FALSE(QuantLinear::Create(f16_shape, {w.data(), DType::kF32, out, in, false}, nullptr,
                                   f32_storage.data())
                   .ok());
}

}  // namespace
}  // namespace ember::quant
