// ember_engine_bench: loads a model and measures prefill and batched decode throughput, each
// printed beside its bound on this machine measured in the same process (DRAM bandwidth, oneDNN's
// GEMM peak and its rate at M = batch for the model's own shapes), with the ratio.
//
//   ember_engine_bench --model=/tmp/ember-models/tinyllama-1.1b-bf16 --dtype=bf16 --json
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/bench_flags.h"
#include "bench/engine_bench_costs.h"
#include "bench/engine_bench_report.h"
#include "bench/engine_bench_runs.h"
#include "bench/machine_limits.h"
#include "bench/weight_format_flags.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/quant/quant_matmul.h"
#include "core/kernels/threads.h"
#include "core/model/decoder_model.h"
#include "core/model/kv_cache.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "", "Hugging Face model directory (config.json + safetensors)");
ABSL_FLAG(std::string, dtype, "bf16", "Compute (weight) dtype: f32 or bf16");
ABSL_FLAG(int32_t, threads, 0,
          "Intra-op threads; 0: OMP_NUM_THREADS if set, else the CPUs the process may use, "
          "capped by a cgroup v2 CPU limit");
ABSL_FLAG(int64_t, decode_steps, 32, "Timed decode steps per batch size");
ABSL_FLAG(std::string, batches, "1,4,16,32", "Comma-separated decode batch sizes");
ABSL_FLAG(int64_t, prefill_tokens, 512, "Prompt length of the prefill figure; 0 skips it");
ABSL_FLAG(int32_t, prefill_runs, 3, "Prefill repetitions (the first also creates primitives)");
ABSL_FLAG(std::string, prefill_chunks, "0",
          "Comma-separated prefill step sizes, one figure each; 0: the whole prompt in one step");
ABSL_FLAG(int64_t, prompt_tokens, 16, "Prompt of each decoding sequence");
ABSL_FLAG(bool, json, false, "Also print the results as one JSON object (last line of stdout)");
ABSL_FLAG(std::string, json_out, "", "Also write the JSON object to this file");
ABSL_FLAG(bool, paired_probes, true,
          "Probe the read bandwidth (one pass over 1 GiB, untimed) between timed decode steps, "
          "for the paired ratio");

namespace ember::bench {
namespace {

constexpr int64_t kBlockSize = 16;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The oneDNN implementation Linear picks for each of the model's matmul shapes at the given M, as
// "name: M=1 impl; M=512 impl" (one Linear per shape built over zero weights).
absl::StatusOr<std::map<std::string, std::map<int64_t, std::string>>> ImplementationNames(
    const ModelCosts& costs, DType compute, const std::vector<int64_t>& ms) {
  std::map<std::string, std::map<int64_t, std::string>> names;
  for (const LinearUse& use : costs.uses) {
    onednn::LinearShape shape;
    shape.in = use.in;
    shape.out = use.out;
    shape.compute = compute;
    absl::StatusOr<size_t> bytes = onednn::Linear::StorageBytes(shape);
    if (!bytes.ok()) return bytes.status();
    auto storage = HugePageBuffer::Create(*bytes);
    if (!storage.ok()) return storage.status();
    std::vector<uint16_t> zeros(static_cast<size_t>(use.in * use.out), 0);
    onednn::WeightSource source{zeros.data(), DType::kBF16, onednn::WeightLayout::kOutIn};
    auto linear = onednn::Linear::Create(shape, source, nullptr, storage->data());
    if (!linear.ok()) return linear.status();
    for (int64_t m : ms) {
      absl::StatusOr<std::string> name = (*linear)->ImplementationName(m);
      if (!name.ok()) return name.status();
      names[use.name][m] = *name;
    }
  }
  return names;
}

// The quantized layers' kernel for every matmul and M (QuantLinear runs one kernel at every M).
absl::StatusOr<std::map<std::string, std::map<int64_t, std::string>>> QuantImplementationNames(
    const ModelCosts& costs, const std::vector<int64_t>& ms) {
  std::map<std::string, std::map<int64_t, std::string>> names;
  for (const LinearUse& use : costs.uses) {
    for (int64_t m : ms) {
      names[use.name][m] = absl::StrCat("ember ", quant::QuantKernelName(quant::BestQuantKernel()));
    }
  }
  return names;
}

absl::Status Run() {
  const std::string model_dir = absl::GetFlag(FLAGS_model);
  if (model_dir.empty()) return absl::InvalidArgumentError("--model is required");
  auto compute_or = ParseComputeFlag(absl::GetFlag(FLAGS_dtype));
  if (!compute_or.ok()) return compute_or.status();
  const DType compute = *compute_or;
  auto batches_or = ParseSizes(absl::GetFlag(FLAGS_batches), "--batches", false);
  if (!batches_or.ok()) return batches_or.status();
  const std::vector<int64_t> batches = *batches_or;
  const int64_t decode_steps = absl::GetFlag(FLAGS_decode_steps);
  const int64_t prefill_tokens = absl::GetFlag(FLAGS_prefill_tokens);
  const int64_t prompt_tokens = absl::GetFlag(FLAGS_prompt_tokens);
  if (decode_steps <= 0 || prompt_tokens <= 0 || prefill_tokens < 0) {
    return absl::InvalidArgumentError("--decode_steps and --prompt_tokens must be positive");
  }
  SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
  const int threads = IntraOpThreads();
  EngineBenchResults results;

  // Load first, so VmHWM says what loading costs (the probes below allocate their own arrays).
  {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";  // resets VmHWM to the current RSS
  }
  const double load_average_start = ReadLoadAverage();
  const ProcessMemory before = ReadProcessMemory();
  const double load_start = Now();
  auto quantize = WeightFormatFromFlags();
  if (!quantize.ok()) return quantize.status();
  DecoderModelOptions model_options;
  model_options.compute = compute;
  model_options.quantize = *quantize;
  auto model_or = DecoderModel::Load(model_dir, model_options);
  if (!model_or.ok()) return model_or.status();
  std::unique_ptr<DecoderModel> model = std::move(*model_or);
  const double load_seconds = Now() - load_start;
  const ProcessMemory loaded = ReadProcessMemory();
  const ModelConfig& config = model->config();
  auto costs_or = ComputeModelCosts(config, compute, *quantize);
  if (!costs_or.ok()) return costs_or.status();
  const ModelCosts& costs = *costs_or;

  const int64_t max_batch = *std::max_element(batches.begin(), batches.end());
  const int64_t warmup_steps = 2;
  const int64_t num_blocks =
      std::max(BlocksFor(std::max<int64_t>(prefill_tokens, 1), kBlockSize),
               max_batch * BlocksFor(prompt_tokens + warmup_steps + decode_steps, kBlockSize));
  auto cache_or = KvCache::Create(config, num_blocks, kBlockSize, compute);
  if (!cache_or.ok()) return cache_or.status();
  KvCache& cache = **cache_or;

  // Limits: bandwidth at the start, before each decode batch and at the end (the best is the bound:
  // the bound must be one the engine could have had during the run).
  auto probe = ReadBandwidthProbe::Create();
  if (!probe.ok()) return probe.status();
  std::vector<double> bandwidths = {probe->Measure(threads)};
  const double bandwidth_one_thread = probe->Measure(1);
  auto peak = MeasurePeakMatmul(compute);
  if (!peak.ok()) return peak.status();

  auto chunks = ParseSizes(absl::GetFlag(FLAGS_prefill_chunks), "--prefill_chunks", true);
  if (!chunks.ok()) return chunks.status();
  std::vector<PrefillResult> prefills;
  for (int64_t chunk : prefill_tokens > 0 ? *chunks : std::vector<int64_t>{}) {
    auto result =
        RunPrefill(*model, cache, prefill_tokens, absl::GetFlag(FLAGS_prefill_runs), chunk);
    if (!result.ok()) return result.status();
    prefills.push_back(std::move(*result));
  }
  std::vector<StepGemmRate> gemm_rates;
  std::vector<DecodeResult> decodes;
  for (int64_t b : batches) {
    auto gemm = MeasureStepGemms(costs.uses, b, compute, MatmulOptions{});
    if (!gemm.ok()) return gemm.status();
    gemm_rates.push_back(std::move(*gemm));
    bandwidths.push_back(probe->Measure(threads));
    DecodeOptions options;
    options.batch = b;
    options.prompt_tokens = prompt_tokens;
    options.warmup_steps = warmup_steps;
    options.steps = decode_steps;
    if (absl::GetFlag(FLAGS_paired_probes)) {
      options.bandwidth_probe = [&probe, threads] { return probe->Measure(threads, 1); };
    }
    auto decode = RunDecode(*model, cache, options);
    if (!decode.ok()) return decode.status();
    decodes.push_back(std::move(*decode));
  }
  bandwidths.push_back(probe->Measure(threads));
  const double load_average_end = ReadLoadAverage();

  std::vector<int64_t> impl_ms = batches;
  for (const PrefillResult& p : prefills) impl_ms.push_back(p.chunk);
  auto impls = quantize->has_value() ? QuantImplementationNames(costs, impl_ms)
                                     : ImplementationNames(costs, compute, impl_ms);
  if (!impls.ok()) return impls.status();
  results.weight_format = model->weight_format();

  results.model_dir = model_dir;
  results.config = config;
  results.compute = compute;
  results.threads = threads;
  results.costs = costs;
  results.load_seconds = load_seconds;
  results.weight_arena_bytes = model->weight_bytes();
  results.before_load = before;
  results.after_load = loaded;
  results.load_average_start = load_average_start;
  results.load_average_end = load_average_end;
  results.bandwidth_probes_gbps = bandwidths;
  results.bandwidth_one_thread_gbps = bandwidth_one_thread;
  results.peak = *peak;
  results.prefill_tokens = prefill_tokens;
  results.prefills = std::move(prefills);
  results.batches = batches;
  results.gemm_rates = std::move(gemm_rates);
  results.decodes = std::move(decodes);
  results.implementations = std::move(*impls);
  const std::vector<Figure> figures = ComputeFigures(results);
  PrintReport(results, figures, std::cout);
  const nlohmann::json json = ReportJson(results, figures);
  if (absl::GetFlag(FLAGS_json)) std::cout << json.dump() << "\n";
  const std::string json_out = absl::GetFlag(FLAGS_json_out);
  if (!json_out.empty()) {
    std::ofstream file(json_out);
    file << json.dump(2) << "\n";
    if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", json_out));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures ember's prefill and batched decode beside this machine's limits.\n"
      "  ember_engine_bench --model=DIR [--dtype=bf16] [--batches=1,4,16,32] [--json]");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = ember::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "ember_engine_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
