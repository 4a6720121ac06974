// ember_marian_bench: translates deterministic English-like sentences with a MarianMT model
// through the Engine (greedy and beam 4; one sentence at a time and all at once) and prints
// sentences/s and target tokens/s beside this machine's bounds measured in the same process (DRAM
// read bandwidth over the decoder's per-step weights; oneDNN's GEMM peak), with the ratio.
//
//   ember_marian_bench --model_dir=/tmp/ember-models/opus-mt-base-bf16 --dtype=bf16
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_flags.h"
#include "bench/engine_bench_runs.h"
#include "bench/machine_limits.h"
#include "bench/marian_bench_costs.h"
#include "bench/marian_bench_report.h"
#include "bench/marian_bench_runs.h"
#include "core/engine/engine.h"
#include "core/kernels/threads.h"
#include "core/model/model_config.h"

ABSL_FLAG(std::string, model_dir, "",
          "MarianMT model directory (e.g. opus-mt-base from make_model)");
ABSL_FLAG(int32_t, threads, 0,
          "Intra-op threads; 0: OMP_NUM_THREADS if set, else the CPUs the process may use, "
          "capped by a cgroup v2 CPU limit");
ABSL_FLAG(std::string, dtype, "bf16", "Compute (weight) dtype: f32 or bf16");
ABSL_FLAG(int32_t, sentences, 32, "Source sentences per workload (also the all-at-once batch)");
ABSL_FLAG(int32_t, max_new_tokens, 32, "Target tokens per sentence at most");
ABSL_FLAG(int32_t, reps, 3, "Timed repetitions of every workload (after one untimed warm-up)");

namespace ember::bench {
namespace {

// Source lengths the sentences are drawn from (source tokens, </s> included).
constexpr int64_t kMinSourceTokens = 20;
constexpr int64_t kMaxSourceTokens = 30;
constexpr int32_t kBeams = 4;

absl::Status Run() {
  MarianBenchResults results;
  results.model_dir = absl::GetFlag(FLAGS_model_dir);
  if (results.model_dir.empty()) return absl::InvalidArgumentError("--model_dir is required");
  auto compute = ParseComputeFlag(absl::GetFlag(FLAGS_dtype));
  if (!compute.ok()) return compute.status();
  results.compute = *compute;
  const int num_sentences = absl::GetFlag(FLAGS_sentences);
  results.max_new_tokens = absl::GetFlag(FLAGS_max_new_tokens);
  const int reps = absl::GetFlag(FLAGS_reps);
  if (num_sentences <= 0 || results.max_new_tokens <= 0 || reps <= 0) {
    return absl::InvalidArgumentError("--sentences, --max_new_tokens and --reps must be positive");
  }
  SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
  results.threads = IntraOpThreads();

  auto config = LoadModelConfig(results.model_dir);
  if (!config.ok()) return config.status();
  if (!config->encoder_decoder.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(results.model_dir, " is a ", config->model_type, " model, not marian"));
  }
  results.config = *config;
  auto costs = ComputeMarianStepCosts(results.config, results.compute);
  if (!costs.ok()) return costs.status();
  results.costs = *costs;

  // Limits first, while the engine does not exist yet; bandwidth again before every workload and
  // at the end (the best probe is the bound: a rate the engine could have had during the run).
  results.load_averages.push_back(ReadLoadAverage());
  auto probe = ReadBandwidthProbe::Create();
  if (!probe.ok()) return probe.status();
  results.bandwidth_probes_gbps.push_back(probe->Measure(results.threads));
  results.bandwidth_one_thread_gbps = probe->Measure(1);
  auto peak = MeasurePeakMatmul(results.compute);
  if (!peak.ok()) return peak.status();
  results.peak = *peak;

  // The recorder must outlive the engine, which reports to it from its loop thread.
  StepRecorder recorder;
  EngineOptions options;
  options.model_dir = results.model_dir;
  options.compute = results.compute;
  options.threads = results.threads;
  options.observer = &recorder;
  options.max_new_tokens_limit = std::max(options.max_new_tokens_limit, results.max_new_tokens);
  auto engine = Engine::Create(options);
  if (!engine.ok()) return engine.status();
  results.weight_arena_bytes = (*engine)->model_info().weight_bytes;

  auto sentences =
      MakeSentences((*engine)->tokenizer(), num_sentences, kMinSourceTokens, kMaxSourceTokens);
  if (!sentences.ok()) return sentences.status();
  results.sentences = *sentences;

  const int64_t all = num_sentences;
  for (const auto& [name, beams, group] : std::vector<std::tuple<std::string, int32_t, int64_t>>{
           {"greedy B=1", 1, 1},
           {"greedy B=" + std::to_string(all), 1, all},
           {absl::StrCat("beam", kBeams, " B=1"), kBeams, 1},
           {absl::StrCat("beam", kBeams, " B=", all), kBeams, all}}) {
    WorkloadResult w;
    w.name = name;
    w.spec.num_beams = beams;
    w.spec.group = group;
    w.spec.max_new_tokens = results.max_new_tokens;
    results.workloads.push_back(std::move(w));
  }

  // Warm-up, untimed: every workload once (two sentences for the one-at-a-time ones), so anything
  // made on first use, e.g. LM head primitives for more logit rows than the engine prepares
  // (32 beam groups x 4 rows), is made before timing.
  for (const WorkloadResult& w : results.workloads) {
    const size_t count = w.spec.group == 1 ? std::min<size_t>(2, results.sentences.size())
                                           : results.sentences.size();
    const std::vector<SourceSentence> subset(results.sentences.begin(),
                                             results.sentences.begin() + count);
    auto run = RunWorkload(**engine, subset, w.spec, recorder);
    if (!run.ok()) return run.status();
  }
  // Reps interleave the workloads so that drift in the machine's load hits all of them alike.
  for (int rep = 0; rep < reps; ++rep) {
    for (WorkloadResult& w : results.workloads) {
      results.load_averages.push_back(ReadLoadAverage());
      results.bandwidth_probes_gbps.push_back(probe->Measure(results.threads));
      ReleaseIntraOpTeam();  // the probe's team would slow the engine's steps (threads.h)
      auto run = RunWorkload(**engine, results.sentences, w.spec, recorder);
      if (!run.ok()) {
        return absl::Status(run.status().code(),
                            absl::StrCat(w.name, ": ", run.status().message()));
      }
      w.reps.push_back(*run);
    }
  }
  results.bandwidth_probes_gbps.push_back(probe->Measure(results.threads));
  results.load_averages.push_back(ReadLoadAverage());
  engine->reset();
  PrintMarianReport(results, std::cout);
  return absl::OkStatus();
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures MarianMT translation through ember's engine beside this machine's limits.\n"
      "  ember_marian_bench --model_dir=DIR [--dtype=bf16] [--threads=0] [--sentences=32]\n"
      "                     [--max_new_tokens=32] [--reps=3]");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = ember::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "ember_marian_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
