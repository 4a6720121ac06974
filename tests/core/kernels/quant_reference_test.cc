// ember's quantization against the independent PyTorch statement of the scheme
// (tools/reference/quant_reference.py, fixture tests/fixtures/quant_reference/quant_matmul.json):
// weight codes and scales and activation codes and scales exactly, and the matmul's outputs within
// 1e-6 of the sum of |terms| (the reference adds each group's term with a multiply and an add,
// ember with one fma: the last bits of the sum may differ, nothing else).
#include <cmath>
#include <fstream>
#include <vector>

#include "core/kernels/quant/activation_quant.h"
#include "core/kernels/quant/quant_matmul.h"
#include "core/kernels/quant/quantize_weights.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/temp_dir.h"

namespace ember::quant {
namespace {

TEST(QuantReferenceTest, CodesScalesAndOutputsMatchThePyTorchReference) {
  std::ifstream in(testing::SourceDir() + "/tests/fixtures/quant_reference/quant_matmul.json");
  ASSERT_TRUE(in.good()) << "missing fixture";
  const nlohmann::json fixture = nlohmann::json::parse(in);
  int cases = 0;
  for (const nlohmann::json& c : fixture["cases"]) {
    const QuantScheme scheme{c["bits"].get<int>(), c["group"].get<int>()};
    SCOPED_TRACE(SchemeName(scheme));
    const int64_t m = c["m"], n = c["n"], k = c["k"];
    const std::vector<double> w64 = c["w"], x64 = c["x"];
    const std::vector<float> w(w64.begin(), w64.end()), x(x64.begin(), x64.end());
    const PackedGeometry g = PackedGeometry::Of(n, k, scheme);
    std::vector<unsigned char> raw(static_cast<size_t>(g.total_bytes) + 64);
    void* storage =
        reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw.data()) + 63) / 64 * 64);
    auto packed = QuantizeWeights({w.data(), DType::kF32, n, k, false}, scheme, storage);
    ASSERT_TRUE(packed.ok()) << packed.status();
    const std::vector<int> w_codes = c["w_codes"];
    const std::vector<double> w_scales = c["w_scales"];
    int code_mismatches = 0, scale_mismatches = 0;
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t col = 0; col < g.padded_k; ++col) {
        if (packed->Code(r, col) != w_codes[static_cast<size_t>(r * g.padded_k + col)]) {
          ++code_mismatches;
        }
      }
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        if (packed->Scale(r, gi) != static_cast<float>(w_scales[r * g.groups + gi])) {
          ++scale_mismatches;
        }
      }
    }
    EXPECT_EQ(code_mismatches, 0);
    EXPECT_EQ(scale_mismatches, 0);

    QuantizedActivations a;
    QuantizeActivations(x.data(), m, k, scheme, g, &a);
    const std::vector<int> x_codes = c["x_codes"];
    const std::vector<double> x_scales = c["x_scales"];
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t col = 0; col < g.padded_k; ++col) {
        ASSERT_EQ(a.row_q(r)[col], x_codes[static_cast<size_t>(r * g.padded_k + col)]) << r;
      }
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        ASSERT_EQ(a.row_scale(r)[gi], static_cast<float>(x_scales[r * g.groups + gi])) << r;
      }
    }

    const std::vector<double> expected = c["y"];
    for (QuantKernel kernel : {QuantKernel::kReference, BestQuantKernel()}) {
      std::vector<float> y(static_cast<size_t>(m * n));
      QuantMatmul(kernel, a, *packed, y.data(), n);
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t col = 0; col < n; ++col) {
          double magnitude = 0;
          for (int64_t i = 0; i < k; ++i) {
            magnitude +=
                std::fabs(packed->Code(col, i) * packed->Scale(col, i / scheme.group_size) *
                          a.row_q(r)[i] * a.row_scale(r)[i / scheme.group_size]);
          }
          EXPECT_NEAR(y[static_cast<size_t>(r * n + col)],
                      expected[static_cast<size_t>(r * n + col)], 1e-6 * magnitude + 1e-30)
              << QuantKernelName(kernel) << " " << r << " " << col;
        }
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 5);
}

}  // namespace
}  // namespace ember::quant
