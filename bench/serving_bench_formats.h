// ember_serving_bench --compare_formats: the weight formats side by side in one run. One server
// per format is loaded into the process at once, and the same closed-loop gRPC load runs against
// each in turn, for several rounds whose format order rotates. The host's memory bandwidth and
// free CPU swing up to 2x over minutes, so formats measured in separate runs (or one after the
// other) cannot be compared; alternating rounds expose every format to the same drift.
#ifndef EMBER_BENCH_SERVING_BENCH_FORMATS_H_
#define EMBER_BENCH_SERVING_BENCH_FORMATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/serving_bench_load.h"
#include "core/kernels/quant/quant_format.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

struct FormatComparison {
  std::string model_dir;
  DType compute = DType::kBF16;
  int threads = 0;
  bool prefix_cache = true;
  int rounds = 3;
  int requests_per_client = 6;
  // The formats (as --weight_format: dtype, int8, int4) and the scheme each stands for; the first
  // is the base of the ratios.
  std::vector<std::string> names;
  std::vector<std::optional<quant::QuantScheme>> schemes;
  LoadSpec spec;  // clients and prompt; requests = clients * requests_per_client
};

// Runs the comparison and prints, per format, the best and median gRPC tokens/s over the rounds,
// the best round's TTFT and inter-token p50, and the ratios to the first format.
absl::Status RunFormatComparison(const FormatComparison& comparison);

}  // namespace ember::bench

#endif  // EMBER_BENCH_SERVING_BENCH_FORMATS_H_
