// Timed forward passes of a DecoderModel over its own KV cache, the way the engine drives it: one
// long prompt (prefill), and B sequences decoding together (one row each per step).
#ifndef EMBER_BENCH_ENGINE_BENCH_RUNS_H_
#define EMBER_BENCH_ENGINE_BENCH_RUNS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/decoder_model.h"
#include "core/model/kv_cache.h"

namespace ember::bench {

// The middle element of `values` after sorting (the upper one of an even count); 0 when empty.
double Median(std::vector<double> values);

// Blocks of `block_size` that one sequence of `positions` needs.
int64_t BlocksFor(int64_t positions, int64_t block_size);

struct PrefillResult {
  int64_t tokens = 0;
  int64_t chunk = 0;  // rows per forward step (the whole prompt when 0 or >= tokens)
  // Every run, in order. The first also creates the oneDNN primitives for M = tokens.
  std::vector<double> seconds;
  double BestSeconds() const;    // the fastest run after the first (the first when only one)
  double MedianSeconds() const;  // over the runs after the first (the first when only one)
};

// Runs a `tokens`-long prompt (deterministic token ids) `runs` times from an empty cache each
// time, as one step, or as consecutive steps of `chunk` rows (as the engine's scheduler splits a
// long prompt); logits only for the last row. The cache must hold BlocksFor(tokens, block_size)
// blocks.
absl::StatusOr<PrefillResult> RunPrefill(DecoderModel& model, KvCache& cache, int64_t tokens,
                                         int runs, int64_t chunk = 0);

struct DecodeOptions {
  int64_t batch = 1;           // sequences decoding together
  int64_t prompt_tokens = 16;  // each sequence's prompt, prefilled together in one step first
  int64_t warmup_steps = 2;    // untimed decode steps (the first creates primitives for M = batch)
  int64_t steps = 32;          // timed decode steps
  // When set, called (untimed) right before every timed step and once after the last; its value,
  // the machine's read bandwidth at that moment in GB/s, is kept. The machine is shared and its
  // bandwidth drifts ~2x over minutes, so a step is best judged against the probes taken just
  // before and just after it rather than against the best probe of the run.
  std::function<double()> bandwidth_probe;
};

struct DecodeResult {
  DecodeOptions options;
  double first_step_seconds = 0;     // the first warm-up step (primitive creation included)
  std::vector<double> step_seconds;  // every timed step
  // With options.bandwidth_probe: step_seconds.size() + 1 probes, step i between probes i and i+1.
  std::vector<double> probe_gbps;
  double TotalSeconds() const;
  double TokensPerSecond() const;  // batch x steps / total
  double MeanContext() const;      // cached positions each sequence sees, mean over timed steps
};

// The cache must hold batch x BlocksFor(prompt + warmup + steps, block_size) blocks.
absl::StatusOr<DecodeResult> RunDecode(DecoderModel& model, KvCache& cache,
                                       const DecodeOptions& options);

// Resident set of this process from /proc/self/status (VmHWM, the peak, and VmRSS) and
// /proc/self/smaps_rollup (AnonHugePages: how much is backed by transparent huge pages), bytes; 0
// when unreadable.
struct ProcessMemory {
  int64_t peak_rss = 0;
  int64_t rss = 0;
  int64_t anon_huge_pages = 0;
};
ProcessMemory ReadProcessMemory();

// The 1-minute load average (/proc/loadavg), to note when other work shared the cores; -1 when
// unreadable.
double ReadLoadAverage();

}  // namespace ember::bench

#endif  // EMBER_BENCH_ENGINE_BENCH_RUNS_H_
