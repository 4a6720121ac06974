#include "bench/engine_bench_runs.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace ember::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Deterministic token ids spread over the vocabulary (which ids does not change the work).
int32_t TokenAt(int64_t sequence, int64_t position, int64_t vocab) {
  const uint64_t x = static_cast<uint64_t>(sequence) * 1000003u + static_cast<uint64_t>(position);
  return static_cast<int32_t>((x * 2654435761u) % static_cast<uint64_t>(vocab));
}

std::vector<double> AfterFirst(const std::vector<double>& v) {
  if (v.size() <= 1) return v;
  return std::vector<double>(v.begin() + 1, v.end());
}

}  // namespace

int64_t BlocksFor(int64_t positions, int64_t block_size) {
  return (positions + block_size - 1) / block_size;
}

double PrefillResult::BestSeconds() const {
  const std::vector<double> v = AfterFirst(seconds);
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double PrefillResult::MedianSeconds() const { return Median(AfterFirst(seconds)); }

absl::StatusOr<PrefillResult> RunPrefill(DecoderModel& model, KvCache& cache, int64_t tokens,
                                         int runs, int64_t chunk) {
  if (chunk <= 0 || chunk > tokens) chunk = tokens;
  const int64_t vocab = model.config().vocab_size;
  const int64_t blocks = BlocksFor(tokens, cache.block_size());
  if (blocks > cache.num_blocks()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefill of ", tokens, " tokens needs ", blocks, " cache blocks"));
  }
  std::vector<int32_t> ids(static_cast<size_t>(tokens));
  for (int64_t i = 0; i < tokens; ++i) ids[static_cast<size_t>(i)] = TokenAt(0, i, vocab);
  std::vector<int32_t> table(static_cast<size_t>(blocks));
  std::iota(table.begin(), table.end(), 0);
  std::vector<float> logits(static_cast<size_t>(vocab));
  PrefillResult result;
  result.tokens = tokens;
  result.chunk = chunk;
  const absl::Span<const int32_t> all(ids);
  for (int r = 0; r < std::max(runs, 1); ++r) {
    const double start = Now();
    for (int64_t past = 0; past < tokens; past += chunk) {
      const int64_t n = std::min(chunk, tokens - past);
      SequenceStep step{all.subspan(static_cast<size_t>(past), static_cast<size_t>(n)), past, table,
                        /*want_logits=*/past + n == tokens};
      absl::Status status = model.Forward({&step, 1}, cache, logits.data());
      if (!status.ok()) return status;
    }
    result.seconds.push_back(Now() - start);
  }
  return result;
}

double DecodeResult::TotalSeconds() const {
  return std::accumulate(step_seconds.begin(), step_seconds.end(), 0.0);
}

double DecodeResult::TokensPerSecond() const {
  const double total = TotalSeconds();
  return total > 0 ? static_cast<double>(options.batch * options.steps) / total : 0;
}

double DecodeResult::MeanContext() const {
  // Step i (0-based, timed) of a sequence attends over prompt + warmup + i + 1 positions.
  return static_cast<double>(options.prompt_tokens + options.warmup_steps) +
         (static_cast<double>(options.steps) + 1.0) / 2.0;
}

absl::StatusOr<DecodeResult> RunDecode(DecoderModel& model, KvCache& cache,
                                       const DecodeOptions& o) {
  const int64_t vocab = model.config().vocab_size;
  const int64_t per_seq = BlocksFor(o.prompt_tokens + o.warmup_steps + o.steps, cache.block_size());
  if (o.batch * per_seq > cache.num_blocks()) {
    return absl::InvalidArgumentError(absl::StrCat("decode of ", o.batch, " sequences needs ",
                                                   o.batch * per_seq, " cache blocks"));
  }
  const size_t b = static_cast<size_t>(o.batch);
  std::vector<std::vector<int32_t>> tables(b), prompts(b), next(b, std::vector<int32_t>(1));
  for (size_t s = 0; s < b; ++s) {
    tables[s].resize(static_cast<size_t>(per_seq));
    std::iota(tables[s].begin(), tables[s].end(), static_cast<int32_t>(s * per_seq));
    for (int64_t i = 0; i < o.prompt_tokens; ++i) {
      prompts[s].push_back(TokenAt(static_cast<int64_t>(s), i, vocab));
    }
  }
  std::vector<float> logits(b * static_cast<size_t>(vocab));
  std::vector<SequenceStep> steps(b);
  // All prompts in one step, as the engine's scheduler would batch them.
  for (size_t s = 0; s < b; ++s) steps[s] = {prompts[s], 0, tables[s], true};
  absl::Status status = model.Forward(steps, cache, logits.data());
  if (!status.ok()) return status;

  DecodeResult result;
  result.options = o;
  int64_t past = o.prompt_tokens;
  for (int64_t i = 0; i < o.warmup_steps + o.steps; ++i, ++past) {
    for (size_t s = 0; s < b; ++s) {
      next[s][0] = TokenAt(static_cast<int64_t>(s), past, vocab);
      steps[s] = {next[s], past, tables[s], true};
    }
    const bool timed = i >= o.warmup_steps;
    if (timed && o.bandwidth_probe) result.probe_gbps.push_back(o.bandwidth_probe());
    const double start = Now();
    status = model.Forward(steps, cache, logits.data());
    const double seconds = Now() - start;
    if (!status.ok()) return status;
    if (i == 0) result.first_step_seconds = seconds;
    if (timed) result.step_seconds.push_back(seconds);
  }
  if (o.bandwidth_probe) result.probe_gbps.push_back(o.bandwidth_probe());
  return result;
}

ProcessMemory ReadProcessMemory() {
  ProcessMemory memory;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kib = 0;
    fields >> key >> kib;
    if (key == "VmHWM:") memory.peak_rss = kib * 1024;
    if (key == "VmRSS:") memory.rss = kib * 1024;
  }
  std::ifstream rollup("/proc/self/smaps_rollup");
  while (std::getline(rollup, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kib = 0;
    fields >> key >> kib;
    if (key == "AnonHugePages:") memory.anon_huge_pages = kib * 1024;
  }
  return memory;
}

double ReadLoadAverage() {
  std::ifstream file("/proc/loadavg");
  double load = -1;
  if (!(file >> load)) return -1;
  return load;
}

}  // namespace ember::bench
