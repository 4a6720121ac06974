#include "bench/marian_bench_report.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/kernels/cpu_features.h"

namespace ember::bench {
namespace {

// Rep indices sorted by target tokens/s, slowest first.
std::vector<size_t> ByRate(const std::vector<WorkloadRun>& reps) {
  std::vector<size_t> order(reps.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&reps](size_t a, size_t b) {
    return reps[a].TokensPerSecond() < reps[b].TokensPerSecond();
  });
  return order;
}

struct Bound {
  double tokens_per_second = 0;
  std::string basis;
};

// Target tokens/s no engine could beat on this machine in this run, for `spec`'s shape: every
// decoder step serves `group` requests with `num_beams` rows each, reads the per-step weights
// once, and gives each request one more target token.
Bound DecodeBound(const MarianBenchResults& r, const WorkloadSpec& spec) {
  const double bandwidth = r.BestBandwidthGbps() * 1e9;
  const double group = static_cast<double>(spec.group);
  const double rows = static_cast<double>(spec.num_beams);
  const double bandwidth_bound = group * bandwidth / r.costs.weight_bytes;
  const double flops_per_token = rows * r.costs.FlopsPerRow();
  const double compute_bound = r.peak.gflops * 1e9 / flops_per_token;
  Bound b;
  b.tokens_per_second = std::min(bandwidth_bound, compute_bound);
  if (spec.group == 1 && bandwidth_bound <= compute_bound) {
    b.basis = absl::StrFormat("%.1f GB/s / %.1f MB per step (compute %.0f)", bandwidth / 1e9,
                              r.costs.weight_bytes / 1e6, compute_bound);
  } else {
    b.basis = absl::StrFormat("min(%d x %.1f GB/s / %.1f MB, %.0f GFLOP/s / (%d x %.3f GFLOP))",
                              spec.group, bandwidth / 1e9, r.costs.weight_bytes / 1e6,
                              r.peak.gflops, spec.num_beams, r.costs.FlopsPerRow() / 1e9);
  }
  return b;
}

}  // namespace

const WorkloadRun& WorkloadResult::Best() const { return reps[ByRate(reps).back()]; }

const WorkloadRun& WorkloadResult::Median() const { return reps[ByRate(reps)[reps.size() / 2]]; }

double MarianBenchResults::BestBandwidthGbps() const {
  return bandwidth_probes_gbps.empty()
             ? 0
             : *std::max_element(bandwidth_probes_gbps.begin(), bandwidth_probes_gbps.end());
}

void PrintMarianReport(const MarianBenchResults& r, std::ostream& out) {
  const ModelConfig& c = r.config;
  const auto& ed = *c.encoder_decoder;
  int64_t min_src = 0, max_src = 0, sum_src = 0;
  for (const SourceSentence& s : r.sentences) {
    min_src = min_src == 0 ? s.tokens : std::min(min_src, s.tokens);
    max_src = std::max(max_src, s.tokens);
    sum_src += s.tokens;
  }
  const double mean_src =
      r.sentences.empty() ? 0
                          : static_cast<double>(sum_src) / static_cast<double>(r.sentences.size());
  out << absl::StrFormat(
      "ember marian bench: %s (d_model %d, %d+%d layers, heads %d, ffn %d, vocab %d) compute=%s "
      "threads=%d isa=%s\n",
      r.model_dir, c.hidden_size, ed.encoder_layers, c.num_layers, c.num_heads, c.intermediate_size,
      c.vocab_size, DTypeName(r.compute), r.threads, CpuIsaName());
  out << absl::StrFormat(
      "%d sentences, source %d-%d tokens (mean %.1f, </s> included), max_new_tokens %d; packed "
      "weight arena %.1f MB\n",
      r.sentences.size(), min_src, max_src, mean_src, r.max_new_tokens,
      static_cast<double>(r.weight_arena_bytes) / 1e6);
  std::vector<std::string> per_step;
  for (const MarianStepMatmul& m : r.costs.matmuls) {
    per_step.push_back(absl::StrFormat("%s %dx%d x%d %.1f MB", m.name, m.in, m.out, m.count,
                                       static_cast<double>(m.count) * m.bytes / 1e6));
  }
  out << absl::StrFormat(
      "decoder step reads %.1f MB of %s weights (%.2f M layer params + %.2f M LM head): %s\n",
      r.costs.weight_bytes / 1e6, DTypeName(r.compute), r.costs.layer_params / 1e6,
      r.costs.lm_head_params / 1e6, absl::StrJoin(per_step, ", "));
  out << absl::StrFormat(
      "machine: read bandwidth %d threads %.1f GB/s best (probes %s), 1 thread %.1f GB/s; oneDNN "
      "%s GEMM peak %.0f GFLOP/s (M=%d K=N=%d, %s)\n",
      r.threads, r.BestBandwidthGbps(),
      absl::StrJoin(r.bandwidth_probes_gbps, " ",
                    [](std::string* s, double v) { absl::StrAppendFormat(s, "%.1f", v); }),
      r.bandwidth_one_thread_gbps, DTypeName(r.compute), r.peak.gflops, r.peak.problem.m,
      r.peak.problem.k, r.peak.implementation);
  out << absl::StrFormat(
      "1-min load average: %s (start, before each workload, end; above %d: other work shared the "
      "cores)\n",
      absl::StrJoin(r.load_averages, " ",
                    [](std::string* s, double v) { absl::StrAppendFormat(s, "%.2f", v); }),
      r.threads);
  for (const WorkloadResult& w : r.workloads) {
    out << absl::StrFormat("%-11s reps tok/s: %s\n", w.name,
                           absl::StrJoin(w.reps, " ", [](std::string* s, const WorkloadRun& run) {
                             absl::StrAppendFormat(s, "%.1f", run.TokensPerSecond());
                           }));
  }

  out << absl::StrFormat("%-11s | %7s | %8s | %9s | %8s | %11s | %5s | %9s | %7s | %s\n", "figure",
                         "sent/s", "tok/s", "med tok/s", "tok/sent", "bound tok/s", "ratio",
                         "enc steps", "rows/st", "bound basis");
  out << std::string(11, '-')
      << "-+---------+----------+-----------+----------+-------------+-------+-----------+---------"
         "+"
      << std::string(40, '-') << "\n";
  for (const WorkloadResult& w : r.workloads) {
    const WorkloadRun& best = w.Best();
    const WorkloadRun& median = w.Median();
    const Bound bound = DecodeBound(r, w.spec);
    const double tokens_per_sentence =
        static_cast<double>(best.target_tokens) / static_cast<double>(best.sentences);
    const double encode_share =
        best.steps.step_seconds > 0 ? best.steps.encode_step_seconds / best.steps.step_seconds : 0;
    const double rows_per_step = best.steps.steps > 0 ? static_cast<double>(best.steps.rows) /
                                                            static_cast<double>(best.steps.steps)
                                                      : 0;
    out << absl::StrFormat(
        "%-11s | %7.2f | %8.1f | %9.1f | %8.1f | %11.1f | %5.2f | %8.1f%% | %7.1f | %s\n", w.name,
        best.SentencesPerSecond(), best.TokensPerSecond(), median.TokensPerSecond(),
        tokens_per_sentence, bound.tokens_per_second,
        best.TokensPerSecond() / bound.tokens_per_second, 100.0 * encode_share, rows_per_step,
        bound.basis);
  }
  out << "sent/s, tok/s: best of the reps by tok/s; med tok/s: the median rep. tok = target "
         "tokens: "
         "greedy, every generated token (the final eos included); beam, the returned best "
         "hypothesis's tokens. B=1: sentences one at a time, each waited for; B=N > 1: all N "
         "submitted at once.\n";
  out << "bound tok/s = min(bandwidth bound, compute bound), in target tokens/s. Bandwidth bound: "
         "every decoder step streams the per-step weights once from DRAM at the best read "
         "bandwidth probed in this run (per decoder layer self q|k|v, self out, cross q, cross "
         "out, fc1, fc2, plus the LM head, packed in the compute dtype) and gives each of the B "
         "requests in flight one token, so B x bandwidth / bytes per step. Compute bound: the "
         "oneDNN large-M GEMM peak over the matmul FLOPs of the rows a token costs (1 greedy, "
         "num_beams for beam). Both ignore the encoder and the cross k|v projection (once per "
         "sentence), attention and KV-cache reads, embeddings, norms, sampling and beam "
         "bookkeeping, and assume all B requests decode together for the whole run; so ratio = "
         "tok/s / bound is an upper-bound efficiency.\n";
  out << "enc steps: share of engine step time (forward + sampling) spent in steps that encoded a "
         "source: the encoder, the cross k|v projection, and that step's decoder rows (a first "
         "decoder step of M = admitted requests, plus any other requests' decode rows). rows/st: "
         "scheduled requests per step (a beam group counts once).\n";
}

}  // namespace ember::bench
