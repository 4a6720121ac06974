// The translation workloads of ember_marian_bench, driven through the Engine the way a server
// would: deterministic English-like source sentences, submitted in groups (a group of 1 = one
// sentence at a time, each waited for; a group of all = everything at once), greedy or beam.
#ifndef EMBER_BENCH_MARIAN_BENCH_RUNS_H_
#define EMBER_BENCH_MARIAN_BENCH_RUNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/engine/engine.h"
#include "core/engine/engine_observer.h"
#include "core/tokenizer/tokenizer.h"

namespace ember::bench {

struct SourceSentence {
  std::string text;
  int64_t tokens = 0;  // source tokens the engine will encode, </s> included
};

// `count` sentences of plain English words, each `min_tokens`..`max_tokens` source tokens long
// (as `tokenizer` counts them, </s> included); the same for the same arguments. INVALID_ARGUMENT
// when the tokenizer cannot reach the length.
absl::StatusOr<std::vector<SourceSentence>> MakeSentences(const Tokenizer& tokenizer, int count,
                                                          int64_t min_tokens, int64_t max_tokens);

// Sums the engine's step statistics (called on its loop thread) between Reset and Take, to split
// step time into steps that ran the encoder (a request's first step: prefill_tokens > 0) and the
// rest.
class StepRecorder : public EngineObserver {
 public:
  struct Totals {
    int64_t steps = 0;
    int64_t encode_steps = 0;        // steps that admitted (and so encoded) at least one request
    int64_t rows = 0;                // scheduled items (sequences; a beam group counts once)
    double step_seconds = 0;         // forward + sampling, all steps
    double encode_step_seconds = 0;  // the same, steps that encoded
  };
  void Reset();
  Totals Take() const;
  // Steps seen since construction (never reset), to tell when the engine's last step has been
  // recorded: it reports a step after that step's final events went out.
  int64_t lifetime_steps() const;

  void OnStep(const StepStats& stats) override;
  void OnQueueState(int64_t, int64_t, int64_t, int64_t) override {}
  void OnToken(bool, absl::Duration) override {}
  void OnRequestFinished(FinishReason, const RequestTimings&) override {}
  void OnRequestRejected() override {}

 private:
  mutable absl::Mutex mu_;
  Totals totals_ ABSL_GUARDED_BY(mu_);
  int64_t lifetime_steps_ ABSL_GUARDED_BY(mu_) = 0;
};

struct WorkloadSpec {
  int32_t num_beams = 1;  // 1: greedy (temperature 0)
  int64_t group = 1;      // requests submitted together; the next group waits for this one
  int32_t max_new_tokens = 32;
};

struct WorkloadRun {
  double wall_seconds = 0;
  int64_t sentences = 0;
  // Target tokens: greedy, every token the events carried (the final eos included); beam, the
  // returned best hypothesis's tokens (eos included when it ended on one).
  int64_t target_tokens = 0;
  StepRecorder::Totals steps;
  double SentencesPerSecond() const { return wall_seconds > 0 ? sentences / wall_seconds : 0; }
  double TokensPerSecond() const { return wall_seconds > 0 ? target_tokens / wall_seconds : 0; }
};

// Translates every sentence once; the wall time ends at the last final event, then this waits
// (untimed) for the engine to go idle so the step totals are complete. `recorder` must be the
// engine's observer. Any request that does not finish with kEos or kLength fails the
// run (INTERNAL, with the engine's reason and error).
absl::StatusOr<WorkloadRun> RunWorkload(Engine& engine,
                                        const std::vector<SourceSentence>& sentences,
                                        const WorkloadSpec& spec, StepRecorder& recorder);

}  // namespace ember::bench

#endif  // EMBER_BENCH_MARIAN_BENCH_RUNS_H_
