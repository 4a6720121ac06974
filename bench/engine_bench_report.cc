#include "bench/engine_bench_report.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/kernels/cpu_features.h"

namespace ember::bench {
namespace {

// Figure::paired_ratio of a decode run at B = `batch`: per step, its tok/s over the bound that the
// mean of the probes just before and just after it gives (B x bandwidth / bytes of a one-sequence
// step, capped at oneDNN's rate at M = B, which was measured once).
double PairedRatio(const DecodeResult& d, int64_t batch, double one_seq_bytes,
                   double onednn_bound) {
  if (d.step_seconds.empty() || d.probe_gbps.size() != d.step_seconds.size() + 1) return 0;
  std::vector<double> ratios;
  for (size_t i = 0; i < d.step_seconds.size(); ++i) {
    const double gbps = (d.probe_gbps[i] + d.probe_gbps[i + 1]) / 2;
    double bound = static_cast<double>(batch) * gbps * 1e9 / one_seq_bytes;
    if (batch > 1) bound = std::min(bound, onednn_bound);
    ratios.push_back(static_cast<double>(batch) / d.step_seconds[i] / bound);
  }
  return Median(ratios);
}

}  // namespace

std::string FormatBytes(double bytes) {
  if (bytes >= 1e9) return absl::StrFormat("%.3f GB", bytes / 1e9);
  if (bytes >= 1e6) return absl::StrFormat("%.1f MB", bytes / 1e6);
  if (bytes >= 1e3) return absl::StrFormat("%.1f kB", bytes / 1e3);
  return absl::StrFormat("%.0f B", bytes);
}

double EngineBenchResults::BestBandwidthGbps() const {
  return bandwidth_probes_gbps.empty()
             ? 0
             : *std::max_element(bandwidth_probes_gbps.begin(), bandwidth_probes_gbps.end());
}

double EngineBenchResults::LowestBandwidthGbps() const {
  return bandwidth_probes_gbps.empty()
             ? 0
             : *std::min_element(bandwidth_probes_gbps.begin(), bandwidth_probes_gbps.end());
}

std::vector<Figure> ComputeFigures(const EngineBenchResults& r) {
  const ModelCosts& costs = r.costs;
  const int64_t prefill_tokens = r.prefill_tokens;
  const double bandwidth = r.BestBandwidthGbps() * 1e9;
  const MatmulRate& peak = r.peak;
  const std::vector<PrefillResult>& prefills = r.prefills;
  const std::vector<StepGemmRate>& gemm_rates = r.gemm_rates;
  const std::vector<DecodeResult>& decodes = r.decodes;
  const std::vector<int64_t>& batches = r.batches;
  std::vector<Figure> figures;
  const double peak_flops = peak.gflops * 1e9;
  for (const PrefillResult& prefill : prefills) {
    const double flops_per_token = costs.PrefillFlopsPerToken(prefill_tokens);
    Figure f;
    f.name = absl::StrCat("prefill ", prefill_tokens);
    if (prefill.chunk < prefill_tokens) absl::StrAppend(&f.name, " by ", prefill.chunk);
    f.value = static_cast<double>(prefill_tokens) / prefill.BestSeconds();
    f.alternate = static_cast<double>(prefill_tokens) / prefill.MedianSeconds();
    f.bound = peak_flops / flops_per_token;
    f.bound_basis = absl::StrFormat("GEMM peak %.0f GFLOP/s / %.3f GFLOP/token", peak.gflops,
                                    flops_per_token / 1e9);
    figures.push_back(f);
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    const DecodeResult& d = decodes[i];
    const StepGemmRate& g = gemm_rates[i];
    const int64_t b = batches[i];
    const double context = d.MeanContext();
    const double one_seq_bytes = costs.DecodeBytes(1, context);
    const double bw_bound_1 = bandwidth / one_seq_bytes;
    const double onednn_bound = static_cast<double>(b) / g.seconds;  // = rate(M=b) / FLOPs/token
    Figure f;
    f.name = absl::StrCat("decode B=", b);
    f.paired_ratio = PairedRatio(d, b, one_seq_bytes, onednn_bound);
    f.value = d.TokensPerSecond();
    f.alternate =
        static_cast<double>(b) / *std::min_element(d.step_seconds.begin(), d.step_seconds.end());
    if (b == 1) {
      f.bound = bw_bound_1;
      f.bound_basis = absl::StrFormat("%.1f GB/s / %s per step (oneDNN M=1 alone: %.1f tok/s)",
                                      bandwidth / 1e9, FormatBytes(one_seq_bytes), onednn_bound);
    } else {
      f.bound = std::min(static_cast<double>(b) * bw_bound_1, onednn_bound);
      f.bound_basis = absl::StrFormat(
          "min(%d x %.1f, oneDNN M=%d %.0f GFLOP/s / %.3f GFLOP/token = %.1f)", b, bw_bound_1, b,
          g.gflops(), costs.DecodeFlopsPerToken() / 1e9, onednn_bound);
    }
    figures.push_back(f);
  }

  return figures;
}

void PrintReport(const EngineBenchResults& r, const std::vector<Figure>& figures,
                 std::ostream& out) {
  const ModelConfig& config = r.config;
  const ModelCosts& costs = r.costs;
  const DType compute = r.compute;
  const int threads = r.threads;
  const int64_t prefill_tokens = r.prefill_tokens;
  const double bandwidth = r.BestBandwidthGbps() * 1e9;
  const double bandwidth_low = r.LowestBandwidthGbps() * 1e9;
  const MatmulRate& peak = r.peak;
  const std::vector<PrefillResult>& prefills = r.prefills;
  const std::vector<StepGemmRate>& gemm_rates = r.gemm_rates;
  const std::vector<DecodeResult>& decodes = r.decodes;
  out << absl::StrFormat(
      "ember engine bench: %s (%s, %d layers, hidden %d, heads %d/%d, vocab %d) compute=%s "
      "weights=%s threads=%d isa=%s\n",
      r.model_dir, config.model_type, config.num_layers, config.hidden_size, config.num_heads,
      config.num_kv_heads, config.vocab_size, DTypeName(compute), r.weight_format, threads,
      CpuIsaName());
  out << absl::StrFormat(
      "load %.2f s; packed weight arena %s (matmul weights read per step %s); RSS before load "
      "%s, after load VmRSS %s, peak VmHWM %s, huge pages %s\n",
      r.load_seconds, FormatBytes(static_cast<double>(r.weight_arena_bytes)),
      FormatBytes(costs.matmul_weight_bytes), FormatBytes(static_cast<double>(r.before_load.rss)),
      FormatBytes(static_cast<double>(r.after_load.rss)),
      FormatBytes(static_cast<double>(r.after_load.peak_rss)),
      FormatBytes(static_cast<double>(r.after_load.anon_huge_pages)));
  out << absl::StrFormat(
      "1-min load average %.2f at start, %.2f at end (above %d: other work shared the cores)\n",
      r.load_average_start, r.load_average_end, threads);
  out << absl::StrFormat(
      "machine: read bandwidth %d threads %.1f GB/s best (%.1f-%.1f over %d probes), 1 thread "
      "%.1f GB/s; oneDNN %s peak %.0f GFLOP/s (M=%d K=N=%d, %s)\n",
      threads, bandwidth / 1e9, bandwidth_low / 1e9, bandwidth / 1e9,
      static_cast<int>(r.bandwidth_probes_gbps.size()), r.bandwidth_one_thread_gbps,
      DTypeName(compute), peak.gflops, peak.problem.m, peak.problem.k, peak.implementation);
  for (const StepGemmRate& g : gemm_rates) {
    out << absl::StrFormat(
        "oneDNN alone, one step's matmuls at M=%d: %.2f ms (median pass %.2f ms), %.0f GFLOP/s, "
        "weights at %.1f GB/s\n",
        g.m, g.seconds * 1e3, g.median_seconds * 1e3, g.gflops(), g.weight_gbps());
  }
  for (const PrefillResult& prefill : prefills) {
    out << absl::StrFormat(
        "prefill %d in steps of %d: runs %s s (first includes primitive creation); attention adds "
        "%.3f GFLOP/token (%.1f%% of matmul FLOPs) outside the bound\n",
        prefill.tokens, prefill.chunk,
        absl::StrJoin(prefill.seconds, ", ",
                      [](std::string* text, double s) { absl::StrAppendFormat(text, "%.3f", s); }),
        costs.PrefillAttentionFlopsPerToken(prefill_tokens) / 1e9,
        100.0 * costs.PrefillAttentionFlopsPerToken(prefill_tokens) /
            costs.PrefillFlopsPerToken(prefill_tokens));
  }
  for (const DecodeResult& d : decodes) {
    std::vector<double> sorted = d.step_seconds;
    std::sort(sorted.begin(), sorted.end());
    out << absl::StrFormat(
        "decode B=%d: first step %.1f ms (primitive creation), steps min/median/max %.1f/%.1f/%.1f "
        "ms, mean context %.1f",
        d.options.batch, d.first_step_seconds * 1e3, sorted.front() * 1e3,
        sorted[sorted.size() / 2] * 1e3, sorted.back() * 1e3, d.MeanContext());
    if (!d.probe_gbps.empty()) {
      const auto [low, high] = std::minmax_element(d.probe_gbps.begin(), d.probe_gbps.end());
      out << absl::StrFormat("; probes around each step %.1f-%.1f GB/s (median %.1f)", *low, *high,
                             Median(d.probe_gbps));
    }
    out << "\n";
  }
  for (const auto& [name, by_m] : r.implementations) {
    std::vector<std::string> parts;
    for (const auto& [m, impl] : by_m) parts.push_back(absl::StrCat("M=", m, " ", impl));
    out << absl::StrFormat("impl %-8s (%s): %s\n", name, "the layer's kernel",
                           absl::StrJoin(parts, ", "));
  }
  PrintFigures(figures, "alt tok/s", out);
  out << "(alt tok/s: prefill = median run after the first; decode = best single step. ratio: "
         "tok/s over the bound from the run's best bandwidth probe. paired: median over steps of "
         "each step's rate over the bound from the probes just before and after that step)\n";
}

nlohmann::json ReportJson(const EngineBenchResults& r, const std::vector<Figure>& figures) {
  const ModelConfig& config = r.config;
  const ModelCosts& costs = r.costs;
  const DType compute = r.compute;
  const int threads = r.threads;
  const double bandwidth = r.BestBandwidthGbps() * 1e9;
  const MatmulRate& peak = r.peak;
  const std::vector<PrefillResult>& prefills = r.prefills;
  const std::vector<StepGemmRate>& gemm_rates = r.gemm_rates;
  const std::vector<DecodeResult>& decodes = r.decodes;
  nlohmann::json json;
  json["model"] = r.model_dir;
  json["model_type"] = config.model_type;
  json["compute"] = std::string(DTypeName(compute));
  json["weight_format"] = r.weight_format;
  json["threads"] = threads;
  json["load_average"] = {r.load_average_start, r.load_average_end};
  json["load_seconds"] = r.load_seconds;
  json["weight_arena_bytes"] = r.weight_arena_bytes;
  json["matmul_weight_bytes"] = costs.matmul_weight_bytes;
  json["rss_before_load_bytes"] = r.before_load.rss;
  json["rss_after_load_bytes"] = r.after_load.rss;
  json["peak_rss_after_load_bytes"] = r.after_load.peak_rss;
  json["anon_huge_pages_after_load_bytes"] = r.after_load.anon_huge_pages;
  json["bandwidth_gbps"] = bandwidth / 1e9;
  json["bandwidth_probes_gbps"] = nlohmann::json::array();
  for (double bw : r.bandwidth_probes_gbps) json["bandwidth_probes_gbps"].push_back(bw);
  json["bandwidth_one_thread_gbps"] = r.bandwidth_one_thread_gbps;
  json["gemm_peak"] = {{"gflops", peak.gflops},
                       {"m", peak.problem.m},
                       {"k", peak.problem.k},
                       {"n", peak.problem.n},
                       {"impl", peak.implementation}};
  for (const StepGemmRate& g : gemm_rates) {
    json["onednn_step"].push_back({{"m", g.m},
                                   {"seconds", g.seconds},
                                   {"median_seconds", g.median_seconds},
                                   {"gflops", g.gflops()},
                                   {"weight_gbps", g.weight_gbps()}});
  }
  for (const PrefillResult& prefill : prefills) {
    json["prefill"].push_back(
        {{"tokens", prefill.tokens}, {"chunk", prefill.chunk}, {"seconds", prefill.seconds}});
  }
  for (const DecodeResult& d : decodes) {
    json["decode"].push_back({{"batch", d.options.batch},
                              {"steps", d.options.steps},
                              {"first_step_seconds", d.first_step_seconds},
                              {"step_seconds", d.step_seconds},
                              {"probe_gbps_around_steps", d.probe_gbps},
                              {"mean_context", d.MeanContext()}});
  }
  json["implementations"] = nlohmann::json::object();
  for (const auto& [name, by_m] : r.implementations) {
    for (const auto& [m, impl] : by_m) json["implementations"][name][std::to_string(m)] = impl;
  }
  for (const Figure& f : figures) {
    json["figures"].push_back({{"name", f.name},
                               {"tokens_per_second", f.value},
                               {"alternate_tokens_per_second", f.alternate},
                               {"bound_tokens_per_second", f.bound},
                               {"ratio", f.ratio()},
                               {"paired_ratio", f.paired_ratio},
                               {"bound_basis", f.bound_basis}});
  }
  return json;
}

void PrintFigures(const std::vector<Figure>& figures, const std::string& alternate_label,
                  std::ostream& out) {
  size_t name_width = 6;
  for (const Figure& f : figures) name_width = std::max(name_width, f.name.size());
  const int w = static_cast<int>(name_width);
  out << absl::StrFormat("%-*s | %10s | %10s | %11s | %5s | %6s | %s\n", w, "figure", "tok/s",
                         alternate_label, "bound tok/s", "ratio", "paired", "bound basis");
  out << std::string(name_width, '-')
      << "-+------------+------------+-------------+-------+--------+" << std::string(40, '-')
      << "\n";
  for (const Figure& f : figures) {
    const std::string alternate = f.alternate > 0 ? absl::StrFormat("%.2f", f.alternate) : "-";
    const std::string paired = f.paired_ratio > 0 ? absl::StrFormat("%.2f", f.paired_ratio) : "-";
    out << absl::StrFormat("%-*s | %10.2f | %10s | %11.2f | %5.2f | %6s | %s\n", w, f.name, f.value,
                           alternate, f.bound, f.ratio(), paired, f.bound_basis);
  }
}

}  // namespace ember::bench
