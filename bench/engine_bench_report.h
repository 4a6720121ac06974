// The engine benchmark's output: each figure beside the bound it chases, both measured in the same
// run, as a table for people and JSON for scripts.
#ifndef EMBER_BENCH_ENGINE_BENCH_REPORT_H_
#define EMBER_BENCH_ENGINE_BENCH_REPORT_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "bench/engine_bench_costs.h"
#include "bench/engine_bench_runs.h"
#include "bench/machine_limits.h"
#include "core/model/model_config.h"
#include "core/tensor/dtype.h"
#include "nlohmann/json.hpp"

namespace ember::bench {

// Everything one run of ember_engine_bench measured.
struct EngineBenchResults {
  std::string model_dir;
  ModelConfig config;
  DType compute = DType::kBF16;
  std::string weight_format;  // Model::weight_format(): "BF16", "int4 g64 (bf16 scales)", ...
  int threads = 0;
  ModelCosts costs;
  double load_seconds = 0;
  size_t weight_arena_bytes = 0;
  ProcessMemory before_load, after_load;
  double load_average_start = 0, load_average_end = 0;
  std::vector<double> bandwidth_probes_gbps;  // start, before each decode batch, end
  double bandwidth_one_thread_gbps = 0;
  MatmulRate peak;
  int64_t prefill_tokens = 0;
  std::vector<PrefillResult> prefills;
  std::vector<int64_t> batches;
  std::vector<StepGemmRate> gemm_rates;  // parallel to batches
  std::vector<DecodeResult> decodes;     // parallel to batches
  // Linear::ImplementationName per matmul (by LinearUse name) and M.
  std::map<std::string, std::map<int64_t, std::string>> implementations;

  // The bound uses the best probe: a rate the engine could have had during the run.
  double BestBandwidthGbps() const;
  double LowestBandwidthGbps() const;
};

struct Figure {
  std::string name;         // "prefill 512", "decode B=16"
  double value = 0;         // tokens/s, the headline
  double alternate = 0;     // tokens/s by another statistic (median run, or best step); 0: none
  double bound = 0;         // tokens/s this figure cannot exceed on this machine, this run
  std::string bound_basis;  // how `bound` was obtained, with the measured limit in it
  // Decode only, when the timed steps were interleaved with bandwidth probes: the median over steps
  // of (that step's tok/s) / (its bound with the mean bandwidth of the probes just before and just
  // after it). Figure and bound then see the same moment's memory contention, which `ratio()`
  // (mean over steps / best probe of the run) does not: on this shared machine bandwidth swings ~2x
  // within a run. 0: not measured.
  double paired_ratio = 0;
  double ratio() const { return bound > 0 ? value / bound : 0; }
};

// Prefill: best run after the first / (GEMM peak / matmul FLOPs per token). Decode at B: B x steps
// / time over min(B x bandwidth / bytes per one-sequence step, B / oneDNN's step time at M = B).
std::vector<Figure> ComputeFigures(const EngineBenchResults& results);

// The context lines (load, memory, limits, first-use costs, implementations) and the table.
void PrintReport(const EngineBenchResults& results, const std::vector<Figure>& figures,
                 std::ostream& out);

nlohmann::json ReportJson(const EngineBenchResults& results, const std::vector<Figure>& figures);

// Column-aligned: figure | tok/s | alt tok/s | bound tok/s | ratio | paired | bound basis.
void PrintFigures(const std::vector<Figure>& figures, const std::string& alternate_label,
                  std::ostream& out);

// Human units: "2.07 GB", "512 MB" (decimal, as bandwidth is quoted).
std::string FormatBytes(double bytes);

}  // namespace ember::bench

#endif  // EMBER_BENCH_ENGINE_BENCH_REPORT_H_
