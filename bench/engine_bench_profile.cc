// ember_engine_bench_profile: where a forward step's time goes. Runs DecoderModel::Forward with
// its per-kernel timers on (core/model/forward_profile.h) for a long-prompt prefill and for B
// sequences decoding together, and prints per-kernel milliseconds per step beside what oneDNN alone
// needs for the same matmuls (weights streaming from DRAM, measured in the same run).
//
//   ember_engine_bench_profile --model=/tmp/ember-models/tinyllama-1.1b-bf16 --dtype=bf16
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <numeric>
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
#include "bench/engine_bench_costs.h"
#include "bench/engine_bench_experiments.h"
#include "bench/engine_bench_runs.h"
#include "bench/machine_limits.h"
#include "bench/weight_format_flags.h"
#include "core/kernels/threads.h"
#include "core/model/decoder_model.h"
#include "core/model/forward_profile.h"

ABSL_FLAG(std::string, model, "", "Hugging Face model directory");
ABSL_FLAG(std::string, dtype, "bf16", "Compute dtype: f32 or bf16");
ABSL_FLAG(int32_t, threads, 0,
          "Intra-op threads; 0: OMP_NUM_THREADS if set, else the CPUs the process may use, "
          "capped by a cgroup v2 CPU limit");
ABSL_FLAG(int64_t, prefill_tokens, 512, "Prompt of the prefill profile; 0 skips it");
ABSL_FLAG(int32_t, prefill_runs, 2, "Profiled prefill runs (after one warm-up run)");
ABSL_FLAG(std::string, batches, "1,16", "Decode batch sizes to profile");
ABSL_FLAG(int64_t, decode_steps, 16, "Profiled decode steps per batch (after 2 warm-up steps)");
ABSL_FLAG(int64_t, prompt_tokens, 16, "Prompt of each decoding sequence");
ABSL_FLAG(bool, compare_onednn, true, "Time each matmul shape in oneDNN alone for comparison");
ABSL_FLAG(bool, experiments, true, "Also time core kernels beside prototypes of suggested fixes");

namespace ember::bench {
namespace {

constexpr int64_t kBlockSize = 16;

int32_t TokenAt(int64_t sequence, int64_t position, int64_t vocab) {
  const uint64_t x = static_cast<uint64_t>(sequence) * 1000003u + static_cast<uint64_t>(position);
  return static_cast<int32_t>((x * 2654435761u) % static_cast<uint64_t>(vocab));
}

// The matmul op that uses each LinearUse (by name).
ForwardOp OpOf(const std::string& use) {
  if (use == "qkv") return ForwardOp::kQkv;
  if (use == "attn_out") return ForwardOp::kAttnOut;
  if (use == "mlp_in") return ForwardOp::kMlpIn;
  if (use == "mlp_out") return ForwardOp::kMlpOut;
  return ForwardOp::kLmHead;
}

// Prints one scenario: per op the mean and the minimum ms per step, the share of the mean step,
// and for matmuls the rate achieved at the minimum and oneDNN alone on the same shapes.
void PrintProfile(const std::string& title, const std::vector<ForwardProfile>& steps, int64_t rows,
                  int64_t logit_rows, const ModelCosts& costs,
                  const std::map<ForwardOp, double>& onednn_seconds) {
  const ForwardProfile sum = SumOf(steps);
  const ForwardProfile min = MinPerStep(steps);
  const double n = static_cast<double>(std::max<int64_t>(sum.steps, 1));
  const double mean_ms = sum.total_seconds / n * 1e3;
  const double min_ms = min.total_seconds * 1e3;
  double timed = 0, timed_min = 0;
  for (size_t i = 0; i < sum.seconds.size(); ++i) {
    timed += sum.seconds[i] / n * 1e3;
    timed_min += min.seconds[i] * 1e3;
  }
  std::cout << absl::StrFormat(
      "\n== %s: %d steps of %d rows, mean %.2f ms (%.1f tok/s), fastest %.2f ms (%.1f tok/s), "
      "sum of per-op minimums %.2f ms\n",
      title, sum.steps, rows, mean_ms, static_cast<double>(rows) / (mean_ms / 1e3), min_ms,
      static_cast<double>(rows) / (min_ms / 1e3), timed_min);
  std::cout << absl::StrFormat("%-18s %9s %9s %6s %6s %9s %8s %10s %8s\n", "op", "mean ms",
                               "min ms", "%mean", "calls", "GFLOP/s", "GB/s", "oneDNN ms",
                               "x alone");
  for (size_t i = 0; i < sum.seconds.size(); ++i) {
    const ForwardOp op = static_cast<ForwardOp>(i);
    if (sum.calls[i] == 0) continue;
    const double ms = sum.seconds[i] / n * 1e3;
    const double best_ms = min.seconds[i] * 1e3;
    std::string gflops, gbps, alone, factor;
    for (size_t u = 0; u < costs.uses.size(); ++u) {
      const LinearUse& use = costs.uses[u];
      if (OpOf(use.name) != op) continue;
      const double m =
          op == ForwardOp::kLmHead ? static_cast<double>(logit_rows) : static_cast<double>(rows);
      const double flops = 2.0 * m * static_cast<double>(use.in * use.out * use.count);
      const double bytes = costs.use_bytes[u] * static_cast<double>(use.count);
      gflops = absl::StrFormat("%.1f", flops / (best_ms / 1e3) / 1e9);
      gbps = absl::StrFormat("%.1f", bytes / (best_ms / 1e3) / 1e9);
      auto it = onednn_seconds.find(op);
      if (it != onednn_seconds.end()) {
        alone = absl::StrFormat("%.2f", it->second * 1e3);
        factor = absl::StrFormat("%.2f", best_ms / (it->second * 1e3));
      }
    }
    std::cout << absl::StrFormat(
        "%-18s %9.3f %9.3f %5.1f%% %6.1f %9s %8s %10s %8s\n", ForwardOpName(op), ms, best_ms,
        100.0 * ms / mean_ms, static_cast<double>(sum.calls[i]) / n, gflops, gbps, alone, factor);
  }
  std::cout << absl::StrFormat("%-18s %9.3f\n", "(untimed glue)", mean_ms - timed);
}

// oneDNN alone (cold weights) for each matmul op at `m` rows, seconds per step.
absl::StatusOr<std::map<ForwardOp, double>> OnednnAlone(const ModelCosts& costs, int64_t m,
                                                        int64_t logit_rows, DType compute) {
  std::map<ForwardOp, double> out;
  if (!absl::GetFlag(FLAGS_compare_onednn)) return out;
  for (const LinearUse& use : costs.uses) {
    const ForwardOp op = OpOf(use.name);
    const int64_t rows = op == ForwardOp::kLmHead ? logit_rows : m;
    MatmulOptions options;
    options.min_seconds = 0.2;
    auto rate = MeasureMatmul({rows, use.in, use.out, compute}, options);
    if (!rate.ok()) return rate.status();
    out[op] += rate->seconds * static_cast<double>(use.count);
  }
  return out;
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_model);
  if (dir.empty()) return absl::InvalidArgumentError("--model is required");
  const std::string dtype = absl::GetFlag(FLAGS_dtype);
  if (dtype != "f32" && dtype != "bf16") return absl::InvalidArgumentError("--dtype: f32|bf16");
  const DType compute = dtype == "bf16" ? DType::kBF16 : DType::kF32;
  std::vector<int64_t> batches;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_batches), ',', absl::SkipEmpty())) {
    int64_t b = 0;
    if (!absl::SimpleAtoi(part, &b) || b <= 0) return absl::InvalidArgumentError("--batches");
    batches.push_back(b);
  }
  SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
  const int64_t prefill_tokens = absl::GetFlag(FLAGS_prefill_tokens);
  const int64_t steps = absl::GetFlag(FLAGS_decode_steps);
  const int64_t prompt = absl::GetFlag(FLAGS_prompt_tokens);

  auto quantize = WeightFormatFromFlags();
  if (!quantize.ok()) return quantize.status();
  DecoderModelOptions model_options;
  model_options.compute = compute;
  model_options.quantize = *quantize;
  auto decoder_or = DecoderModel::Load(dir, model_options);
  if (!decoder_or.ok()) return decoder_or.status();
  DecoderModel& decoder = **decoder_or;
  const ModelConfig& config = decoder.config();
  const int64_t vocab = config.vocab_size;
  auto costs = ComputeModelCosts(config, compute, *quantize);
  if (!costs.ok()) return costs.status();
  const int64_t max_batch = batches.empty() ? 1 : *std::max_element(batches.begin(), batches.end());
  const int64_t per_seq = BlocksFor(prompt + 2 + steps, kBlockSize);
  const int64_t blocks =
      std::max(BlocksFor(std::max<int64_t>(prefill_tokens, 1), kBlockSize), max_batch * per_seq);
  auto cache_or = KvCache::Create(config, blocks, kBlockSize, compute);
  if (!cache_or.ok()) return cache_or.status();
  KvCache& cache = **cache_or;
  std::cout << absl::StrFormat("profile of %s (%s, compute %s, %d threads)\n", dir,
                               config.model_type, DTypeName(compute), IntraOpThreads());

  if (prefill_tokens > 0) {
    std::vector<int32_t> ids(static_cast<size_t>(prefill_tokens));
    for (int64_t i = 0; i < prefill_tokens; ++i) ids[static_cast<size_t>(i)] = TokenAt(0, i, vocab);
    std::vector<int32_t> table(static_cast<size_t>(BlocksFor(prefill_tokens, kBlockSize)));
    std::iota(table.begin(), table.end(), 0);
    std::vector<float> logits(static_cast<size_t>(vocab));
    SequenceStep step{ids, 0, table, true};
    ForwardProfile first;
    std::vector<ForwardProfile> profiles(
        static_cast<size_t>(std::max(absl::GetFlag(FLAGS_prefill_runs), 1)));
    if (absl::Status s = decoder.Forward({&step, 1}, cache, logits.data(), &first); !s.ok()) {
      return s;
    }
    for (ForwardProfile& profile : profiles) {
      if (absl::Status s = decoder.Forward({&step, 1}, cache, logits.data(), &profile); !s.ok()) {
        return s;
      }
    }
    auto alone = OnednnAlone(*costs, prefill_tokens, 1, compute);
    if (!alone.ok()) return alone.status();
    PrintProfile(absl::StrCat("prefill ", prefill_tokens, " tokens, first run ",
                              absl::StrFormat("%.2f s", first.total_seconds)),
                 profiles, prefill_tokens, 1, *costs, *alone);
  }

  for (int64_t b : batches) {
    const size_t n = static_cast<size_t>(b);
    std::vector<std::vector<int32_t>> tables(n), prompts(n), next(n, std::vector<int32_t>(1));
    for (size_t s = 0; s < n; ++s) {
      tables[s].resize(static_cast<size_t>(per_seq));
      std::iota(tables[s].begin(), tables[s].end(), static_cast<int32_t>(s * per_seq));
      for (int64_t i = 0; i < prompt; ++i) {
        prompts[s].push_back(TokenAt(static_cast<int64_t>(s), i, vocab));
      }
    }
    std::vector<float> logits(n * static_cast<size_t>(vocab));
    std::vector<SequenceStep> seq_steps(n);
    for (size_t s = 0; s < n; ++s) seq_steps[s] = {prompts[s], 0, tables[s], true};
    ForwardProfile ignored, first;
    std::vector<ForwardProfile> profiles(static_cast<size_t>(steps));
    if (absl::Status s = decoder.Forward(seq_steps, cache, logits.data(), &ignored); !s.ok()) {
      return s;
    }
    int64_t past = prompt;
    for (int64_t i = 0; i < 2 + steps; ++i, ++past) {
      for (size_t s = 0; s < n; ++s) {
        next[s][0] = TokenAt(static_cast<int64_t>(s), past, vocab);
        seq_steps[s] = {next[s], past, tables[s], true};
      }
      ForwardProfile& target =
          i == 0 ? first : (i == 1 ? ignored : profiles[static_cast<size_t>(i - 2)]);
      if (absl::Status s = decoder.Forward(seq_steps, cache, logits.data(), &target); !s.ok()) {
        return s;
      }
    }
    auto alone = OnednnAlone(*costs, b, b, compute);
    if (!alone.ok()) return alone.status();
    PrintProfile(absl::StrFormat("decode B=%d, context ~%d, first step %.1f ms", b,
                                 prompt + 2 + steps / 2, first.total_seconds * 1e3),
                 profiles, b, b, *costs, *alone);
  }
  if (absl::GetFlag(FLAGS_experiments) && config.architecture == Architecture::kLlama) {
    for (int64_t rows : {int64_t{1}, int64_t{16}, std::max<int64_t>(prefill_tokens, 1)}) {
      RunSiluMulExperiment(rows, config.intermediate_size, config.num_layers, compute, std::cout);
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Per-kernel time of ember's forward step (prefill and decode).");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = ember::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "ember_engine_bench_profile: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
