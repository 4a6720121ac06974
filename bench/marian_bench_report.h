// ember_marian_bench's output: each translation figure beside the bound it chases, both measured
// in the same run, and what each bound assumes.
#ifndef EMBER_BENCH_MARIAN_BENCH_REPORT_H_
#define EMBER_BENCH_MARIAN_BENCH_REPORT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "bench/machine_limits.h"
#include "bench/marian_bench_costs.h"
#include "bench/marian_bench_runs.h"
#include "core/model/model_config.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

struct WorkloadResult {
  std::string name;  // "greedy B=1", "beam4 B=32"
  WorkloadSpec spec;
  std::vector<WorkloadRun> reps;      // timed repetitions, in order
  const WorkloadRun& Best() const;    // the fastest rep by target tokens/s
  const WorkloadRun& Median() const;  // the median rep by target tokens/s
};

// Everything one run of ember_marian_bench measured.
struct MarianBenchResults {
  std::string model_dir;
  ModelConfig config;
  DType compute = DType::kBF16;
  int threads = 0;
  size_t weight_arena_bytes = 0;
  MarianStepCosts costs;
  int32_t max_new_tokens = 0;
  std::vector<SourceSentence> sentences;
  std::vector<double> load_averages;          // 1-minute, at start, before each workload, end
  std::vector<double> bandwidth_probes_gbps;  // start, before each workload, end
  double bandwidth_one_thread_gbps = 0;
  MatmulRate peak;
  std::vector<WorkloadResult> workloads;
  double BestBandwidthGbps() const;
};

void PrintMarianReport(const MarianBenchResults& results, std::ostream& out);

}  // namespace ember::bench

#endif  // EMBER_BENCH_MARIAN_BENCH_REPORT_H_
