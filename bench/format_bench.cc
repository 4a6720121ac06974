// ember_format_bench: weight formats side by side on one model, in one process, the engine alone.
//
// The "int4 >= 3.2x bf16 in the same run" cannot be judged from separate runs, or even
// from one run that measures the formats one after the other: this host's memory bandwidth swings
// 2x over minutes. So every format is loaded at once and decode steps alternate between them in
// short rounds (the format order rotating), each step beside the bandwidth probed just before and
// after it. Reported per batch and format: the median step, tokens/s, the paired fraction of the
// format's own bandwidth roof (the bytes its decode step reads over the probed bandwidth), and the
// speed-up over the first format (median step over median step).
//
// Then a prefill of --prefill_tokens in one step, alternating the same way (--prefill_rounds, after
// one untimed run per format that creates its primitives): tokens/s, the matmul GFLOP/s reached
// beside oneDNN's GEMM peak in the compute dtype measured in the same run (the rate a bf16 prefill
// could reach; the quantized kernels' own instruction peak is about twice it on VNNI CPUs), and
// the speed-up over the first format.
//
//   ember_format_bench --model=/tmp/ember-models/tinyllama-1.1b-bf16 [--dtype=bf16]
//       [--formats=dtype,int8,int4] [--batches=1,16] [--rounds=8] [--steps_per_round=4]
//       [--prefill_tokens=512] [--prefill_rounds=4]
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/bench_flags.h"
#include "bench/engine_bench_costs.h"
#include "bench/engine_bench_runs.h"
#include "bench/machine_limits.h"
#include "bench/weight_format_flags.h"
#include "core/kernels/quant/quant_format.h"
#include "core/kernels/threads.h"
#include "core/model/decoder_model.h"
#include "core/model/kv_cache.h"

ABSL_FLAG(std::string, model, "", "Hugging Face model directory (config.json + safetensors)");
ABSL_FLAG(std::string, dtype, "bf16", "Compute dtype: f32 or bf16");
ABSL_FLAG(std::string, formats, "dtype,int8,int4",
          "Weight formats to compare (as ember_server's --weight_format); the first is the base");
ABSL_FLAG(std::string, batches, "1,16", "Comma-separated decode batch sizes");
ABSL_FLAG(int32_t, rounds, 8, "Rounds per batch; each runs every format once, order rotating");
ABSL_FLAG(int32_t, steps_per_round, 4, "Timed decode steps per format and round");
ABSL_FLAG(int64_t, prompt_tokens, 16, "Prompt of each decoding sequence");
ABSL_FLAG(int32_t, threads, 0, "Intra-op threads (0: as the engine chooses)");
ABSL_FLAG(int64_t, prefill_tokens, 512, "Prompt of the prefill comparison; 0 skips it");
ABSL_FLAG(int32_t, prefill_rounds, 4, "Timed prefill rounds; each runs every format once");

namespace ember::bench {
namespace {

constexpr int64_t kBlockSize = 16;

struct Format {
  std::string name;
  std::optional<quant::QuantScheme> scheme;
  std::unique_ptr<DecoderModel> model;
  std::unique_ptr<KvCache> cache;
  std::optional<ModelCosts> costs;
  std::vector<double> steps;        // this batch's timed steps, seconds
  std::vector<double> roof_ratios;  // each step's rate over its paired roof
  double step_bytes = 0;            // what one of this batch's decode steps reads
  std::vector<double> prefills;     // timed prefill runs, seconds
};

// Prefill of `tokens` in one step, every format once per round (order rotating), after one
// untimed run each; then the table.
absl::Status ComparePrefill(std::vector<Format>& formats, int64_t tokens, int rounds,
                            DType compute) {
  auto peak = MeasurePeakMatmul(compute);
  if (!peak.ok()) return peak.status();
  for (Format& f : formats) {
    auto warm = RunPrefill(*f.model, *f.cache, tokens, 1);
    if (!warm.ok()) return warm.status();
  }
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < formats.size(); ++k) {
      Format& f = formats[(k + static_cast<size_t>(round)) % formats.size()];
      auto run = RunPrefill(*f.model, *f.cache, tokens, 1);
      if (!run.ok()) return run.status();
      f.prefills.push_back(run->seconds.front());
    }
  }
  std::printf(
      "\nprefill of %lld tokens in one step, %d rounds; GEMM peak (oneDNN %s, M=512, %s) "
      "%.0f GFLOP/s\n",
      static_cast<long long>(tokens), rounds, std::string(DTypeName(compute)).c_str(),
      peak->implementation.c_str(), peak->gflops);
  std::printf("%-7s %11s %11s %11s %11s %12s\n", "format", "median ms", "tok/s", "best tok/s",
              "GFLOP/s", "x first");
  const double base = Median(formats.front().prefills);
  for (const Format& f : formats) {
    const double median = Median(f.prefills);
    const double best = *std::min_element(f.prefills.begin(), f.prefills.end());
    const double flops = f.costs->PrefillFlopsPerToken(tokens) * static_cast<double>(tokens);
    std::printf("%-7s %11.1f %11.1f %11.1f %11.0f %11.2fx\n", f.name.c_str(), median * 1e3,
                static_cast<double>(tokens) / median, static_cast<double>(tokens) / best,
                flops / median / 1e9, base / median);
  }
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string model_dir = absl::GetFlag(FLAGS_model);
  if (model_dir.empty()) return absl::InvalidArgumentError("--model is required");
  auto compute = ParseComputeFlag(absl::GetFlag(FLAGS_dtype));
  if (!compute.ok()) return compute.status();
  auto batches_or = ParseSizes(absl::GetFlag(FLAGS_batches), "--batches", false);
  if (!batches_or.ok()) return batches_or.status();
  const std::vector<int64_t>& batches = *batches_or;
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  const int64_t steps_per_round = std::max(1, absl::GetFlag(FLAGS_steps_per_round));
  const int64_t prompt_tokens = absl::GetFlag(FLAGS_prompt_tokens);
  const int64_t prefill_tokens = absl::GetFlag(FLAGS_prefill_tokens);
  if (prefill_tokens < 0) return absl::InvalidArgumentError("--prefill_tokens must be >= 0");
  SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
  const int threads = IntraOpThreads();

  const int64_t max_batch = *std::max_element(batches.begin(), batches.end());
  const int64_t warmup_steps = 1;
  std::vector<Format> formats;
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_formats), ',')) {
    Format f;
    f.name = std::string(name);
    auto scheme = WeightFormatNamed(name, "--formats");
    if (!scheme.ok()) return scheme.status();
    f.scheme = *scheme;
    DecoderModelOptions options;
    options.compute = *compute;
    options.quantize = f.scheme;
    auto model = DecoderModel::Load(model_dir, options);
    if (!model.ok()) return model.status();
    f.model = std::move(*model);
    auto costs = ComputeModelCosts(f.model->config(), *compute, f.scheme);
    if (!costs.ok()) return costs.status();
    f.costs = *costs;
    const int64_t blocks =
        std::max(max_batch * BlocksFor(prompt_tokens + warmup_steps + steps_per_round, kBlockSize),
                 BlocksFor(std::max<int64_t>(prefill_tokens, 1), kBlockSize));
    auto cache = KvCache::Create(f.model->config(), blocks, kBlockSize, *compute);
    if (!cache.ok()) return cache.status();
    f.cache = std::move(*cache);
    std::fprintf(stderr, "loaded %s as %s\n", model_dir.c_str(), f.name.c_str());
    formats.push_back(std::move(f));
  }
  auto probe = ReadBandwidthProbe::Create();
  if (!probe.ok()) return probe.status();

  std::printf(
      "ember_format_bench: %s (%s), %d threads, %d rounds x %lld steps per format and batch\n",
      model_dir.c_str(), absl::GetFlag(FLAGS_dtype).c_str(), threads, rounds,
      static_cast<long long>(steps_per_round));
  std::printf("%5s %-7s %11s %9s %11s %11s %12s\n", "batch", "format", "median ms", "tok/s",
              "MB per step", "roof paired", "x first");
  for (int64_t batch : batches) {
    for (Format& f : formats) {
      f.steps.clear();
      f.roof_ratios.clear();
    }
    for (int round = 0; round < rounds; ++round) {
      for (size_t k = 0; k < formats.size(); ++k) {
        Format& f = formats[(k + static_cast<size_t>(round)) % formats.size()];
        DecodeOptions options;
        options.batch = batch;
        options.prompt_tokens = prompt_tokens;
        options.warmup_steps = warmup_steps;
        options.steps = steps_per_round;
        options.bandwidth_probe = [&probe, threads] { return probe->Measure(threads, 1); };
        auto decode = RunDecode(*f.model, *f.cache, options);
        if (!decode.ok()) return decode.status();
        const double bytes = f.costs->DecodeBytes(batch, decode->MeanContext());
        f.step_bytes = bytes;  // every round of a batch sees the same contexts
        for (size_t i = 0; i < decode->step_seconds.size(); ++i) {
          const double gbps = (decode->probe_gbps[i] + decode->probe_gbps[i + 1]) / 2;
          f.steps.push_back(decode->step_seconds[i]);
          f.roof_ratios.push_back(bytes / (gbps * 1e9) / decode->step_seconds[i]);
        }
      }
    }
    const double base = Median(formats.front().steps);
    for (const Format& f : formats) {
      const double step = Median(f.steps);
      std::printf("%5lld %-7s %11.2f %9.1f %11.1f %11.2f %11.2fx\n", static_cast<long long>(batch),
                  f.name.c_str(), step * 1e3, static_cast<double>(batch) / step, f.step_bytes / 1e6,
                  Median(f.roof_ratios), base / step);
    }
  }
  if (prefill_tokens > 0) {
    return ComparePrefill(formats, prefill_tokens, std::max(1, absl::GetFlag(FLAGS_prefill_rounds)),
                          *compute);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = ember::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "ember_format_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
