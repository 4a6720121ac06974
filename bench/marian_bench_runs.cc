#include "bench/marian_bench_runs.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ember::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Plain words of the generator's English-like spm corpus (tools/spm_fixtures/marian/source.txt),
// so most map to one or two pieces rather than to <unk> (which would make a degenerate source).
constexpr const char* kWords[] = {
    "the",    "morning",  "train",  "to",      "coast",    "was",   "late",    "again",
    "today",  "my",       "sister", "bought",  "a",        "small", "red",     "bicycle",
    "at",     "market",   "we",     "walked",  "along",    "river", "until",   "sun",
    "went",   "down",     "old",    "library", "opens",    "on",    "he",      "forgot",
    "his",    "umbrella", "came",   "home",    "children", "are",   "reading", "story",
    "about",  "clever",   "fox",    "cup",     "of",       "tea",   "with",    "lemon",
    "museum", "shows",    "she",    "writes",  "letters",  "her",   "every",   "week",
    "bridge", "over",     "canal",  "they",    "looking",  "for",   "cheap",   "near"};
constexpr uint64_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);

// A fixed 64-bit LCG (Knuth's MMIX constants): the sentences must not depend on the library.
uint64_t NextRandom(uint64_t& state) {
  state = state * 6364136223846793005u + 1442695040888963407u;
  return state >> 33;
}

// Tokens the engine will encode for `text` (the tokenizer appends </s>).
absl::StatusOr<int64_t> CountTokens(const Tokenizer& tokenizer, const std::string& text) {
  auto ids = tokenizer.Encode(text, /*add_special_tokens=*/true);
  if (!ids.ok()) return ids.status();
  return static_cast<int64_t>(ids->size());
}

// Waits for a group of requests; fed by their callbacks on the engine's loop thread.
struct GroupState {
  absl::Mutex mu;
  int64_t pending ABSL_GUARDED_BY(mu) = 0;
  int64_t target_tokens ABSL_GUARDED_BY(mu) = 0;
  std::string error ABSL_GUARDED_BY(mu);
};

}  // namespace

absl::StatusOr<std::vector<SourceSentence>> MakeSentences(const Tokenizer& tokenizer, int count,
                                                          int64_t min_tokens, int64_t max_tokens) {
  std::vector<SourceSentence> sentences;
  uint64_t state = 0x6d617269616eu;  // "marian"
  for (int i = 0; i < count; ++i) {
    const int64_t target =
        min_tokens + static_cast<int64_t>(NextRandom(state) %
                                          static_cast<uint64_t>(max_tokens - min_tokens + 1));
    std::string words;
    int64_t tokens = 0;
    // Add words until the sentence reaches its length; a word that would overshoot the range is
    // skipped for another (bounded, so a tokenizer that never fits ends in an error).
    for (int attempts = 0; tokens < target && attempts < 1000; ++attempts) {
      std::string word = kWords[NextRandom(state) % kNumWords];
      if (words.empty()) word[0] = static_cast<char>(word[0] - 'a' + 'A');
      const std::string candidate = words.empty() ? word : absl::StrCat(words, " ", word);
      absl::StatusOr<int64_t> n = CountTokens(tokenizer, absl::StrCat(candidate, "."));
      if (!n.ok()) return n.status();
      if (*n > max_tokens) continue;
      words = candidate;
      tokens = *n;
    }
    if (tokens < min_tokens) {
      return absl::InvalidArgumentError(absl::StrCat("sentence ", i, " reached only ", tokens,
                                                     " tokens (wanted ", min_tokens, "-",
                                                     max_tokens, ")"));
    }
    sentences.push_back({absl::StrCat(words, "."), tokens});
  }
  return sentences;
}

void StepRecorder::Reset() {
  absl::MutexLock lock(&mu_);
  totals_ = Totals{};
}

int64_t StepRecorder::lifetime_steps() const {
  absl::MutexLock lock(&mu_);
  return lifetime_steps_;
}

StepRecorder::Totals StepRecorder::Take() const {
  absl::MutexLock lock(&mu_);
  return totals_;
}

void StepRecorder::OnStep(const StepStats& stats) {
  const double seconds = absl::ToDoubleSeconds(stats.duration);
  absl::MutexLock lock(&mu_);
  ++lifetime_steps_;
  ++totals_.steps;
  totals_.rows += stats.sequences;
  totals_.step_seconds += seconds;
  // An encoder-decoder request's first step prefills its decoder start token, and the model
  // encodes the source in that same step.
  if (stats.prefill_tokens > 0) {
    ++totals_.encode_steps;
    totals_.encode_step_seconds += seconds;
  }
}

absl::StatusOr<WorkloadRun> RunWorkload(Engine& engine,
                                        const std::vector<SourceSentence>& sentences,
                                        const WorkloadSpec& spec, StepRecorder& recorder) {
  const bool beam = spec.num_beams > 1;
  GroupState state;
  auto callback = [&state, beam](const GenerationEvent& event) {
    absl::MutexLock lock(&state.mu);
    if (!beam) state.target_tokens += static_cast<int64_t>(event.tokens.size());
    if (!event.finished) return;
    --state.pending;
    if (event.finish_reason != FinishReason::kEos && event.finish_reason != FinishReason::kLength) {
      if (state.error.empty()) {
        state.error =
            absl::StrCat("request ", event.id, " ended with ",
                         FinishReasonName(event.finish_reason), ": ", event.error.ToString());
      }
    } else if (beam) {
      if (event.hypotheses.empty()) {
        if (state.error.empty())
          state.error = absl::StrCat("request ", event.id, ": no hypotheses");
      } else {
        state.target_tokens += static_cast<int64_t>(event.hypotheses[0].tokens.size());
      }
    }
  };
  recorder.Reset();
  WorkloadRun run;
  const double start = Now();
  const int64_t n = static_cast<int64_t>(sentences.size());
  for (int64_t first = 0; first < n; first += spec.group) {
    const int64_t last = std::min(n, first + spec.group);
    {
      absl::MutexLock lock(&state.mu);
      state.pending = last - first;
    }
    for (int64_t i = first; i < last; ++i) {
      GenerationRequest request;
      request.request_id = absl::StrCat("marian-bench-", i);
      request.prompt = sentences[static_cast<size_t>(i)].text;
      request.max_new_tokens = spec.max_new_tokens;
      request.sampling.temperature = 0.0f;
      request.sampling.seed = 1;
      request.beam.num_beams = spec.num_beams;
      request.beam.num_return_sequences = 1;
      absl::StatusOr<RequestHandle> id = engine.Submit(std::move(request), callback);
      if (!id.ok()) {
        // Requests already submitted still call back into `state`: wait for them first.
        absl::MutexLock lock(&state.mu);
        state.pending -= last - i;
        state.mu.Await(absl::Condition(
            +[](int64_t* pending) { return *pending == 0; }, &state.pending));
        return id.status();
      }
    }
    absl::MutexLock lock(&state.mu);
    state.mu.Await(absl::Condition(
        +[](int64_t* pending) { return *pending == 0; }, &state.pending));
    if (!state.error.empty()) return absl::InternalError(state.error);
  }
  run.wall_seconds = Now() - start;
  run.sentences = n;
  {
    absl::MutexLock lock(&state.mu);
    run.target_tokens = state.target_tokens;
  }
  // The engine publishes its snapshot after reporting the step to the observer, so once it shows
  // nothing running and as many steps as the recorder saw, the last step is in the totals.
  while (true) {
    const EngineSnapshot snapshot = engine.Snapshot();
    if (!snapshot.busy && snapshot.running == 0 && snapshot.waiting == 0 &&
        snapshot.steps == recorder.lifetime_steps()) {
      break;
    }
    absl::SleepFor(absl::Microseconds(100));
  }
  run.steps = recorder.Take();
  return run;
}

}  // namespace ember::bench
