// Beam search with transformers' semantics (generate(num_beams=B), BeamSearchScorer), as the
// numbered algorithm of docs/MARIAN.md "Beam search" pins them down. Pure policy: the caller runs
// the decoder on the live beams and hands their logits to Step(); BeamSearch applies the logits
// processors, picks the next beams and keeps the finished hypotheses. No threads, no model.
//
// Driving it:
//   BeamSearch search(options);  // options passed ValidateBeamSearchOptions
//   while (!search.done()) {
//     // logits: [search.num_live(), vocab], row b = the decoder's next-token logits after
//     // [decoder_start] + search.live_tokens(b).
//     std::vector<int32_t> parents = search.Step(logits, vocab);
//     // new live beam i continues old live beam parents[i] (reorder/copy KV caches); its last
//     // token is search.live_tokens(i).back(). Empty once done.
//   }
//   std::vector<BeamHypothesis> n_best = search.Results();
//
// Numerics: each beam's sum_logprob is a float, and a candidate's score is that float plus the f32
// log-probability (a float addition), as transformers keeps beam scores in an f32 tensor; so the
// choices match a float32 PyTorch reference wherever the log-probabilities themselves match. The
// normalized score sum / len^length_penalty is computed in double from the float sum, as
// transformers does with Python floats (next_score.item() / generated_len ** length_penalty).
//
// Determinism: the top 2B candidates are ordered by score, then by lower beam index, then by lower
// token id (i.e. by lower flat index beam * vocab + token). Hypotheses with equal normalized scores
// behave as in transformers' BeamHypotheses: a newcomer must be strictly better than the worst kept
// one, the earliest-added of equally worst ones is evicted, and Results() lists equal scores
// latest-added first (transformers sorts ascending, stably, and pops from the end).
//
// Finalization: when the search ends because t + 1 == max_new_tokens, every live beam is offered
// as a hypothesis (docs/MARIAN.md step 5). When it ends because of the early-stopping criterion
// (step 4), the live beams are not offered, as transformers' BeamSearchScorer.finalize skips a
// batch entry that is done; this only changes results with early_stopping == kTrue (with kHeuristic
// and kNever no live beam could beat the worst kept hypothesis anyway).
#ifndef EMBER_CORE_ENGINE_BEAM_SEARCH_H_
#define EMBER_CORE_ENGINE_BEAM_SEARCH_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ember {

// transformers' early_stopping: false (the heuristic), true, "never".
enum class EarlyStopping { kHeuristic, kTrue, kNever };

// Upper bound on num_beams: each step keeps 2 * num_beams candidates and the caller keeps a KV
// cache per beam, so a huge value is a resource problem rather than a search setting.
inline constexpr int32_t kMaxNumBeams = 64;

struct BeamSearchOptions {
  int32_t num_beams = 4;
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::kHeuristic;
  int32_t no_repeat_ngram_size = 0;    // 0 = off
  int32_t max_new_tokens = 0;          // M, must be > 0; the decoder start token does not count
  int32_t num_return_sequences = 1;    // R, in [1, num_beams]
  std::vector<int32_t> eos_ids;        // may be empty: then only max_new_tokens ends a beam
  std::vector<int32_t> banned_tokens;  // bad_words_ids single-token entries (Marian: the pad id)
  std::optional<int32_t> forced_eos;   // forced_eos_token_id: forced at the last step
  int32_t decoder_start = 0;           // decoder_start_token_id (Marian: the pad id)
};

// INVALID_ARGUMENT naming the offending field. With vocab > 0 the token ids (eos_ids,
// banned_tokens, forced_eos, decoder_start) must also be < vocab; with vocab <= 0 only >= 0.
absl::Status ValidateBeamSearchOptions(const BeamSearchOptions& options, int64_t vocab = 0);

struct BeamHypothesis {
  std::vector<int32_t> tokens;  // generated tokens, eos included when it ended on one
  double score = 0.0;           // sum_logprob / tokens.size()^length_penalty
  double sum_logprob = 0.0;     // the float sum of the step log-probabilities, widened
  bool ended_with_eos = false;
};

class BeamSearch {
 public:
  // `options` must have passed ValidateBeamSearchOptions.
  explicit BeamSearch(BeamSearchOptions options);

  // Live beams of the coming step: 1 at the start, then up to num_beams (fewer only when the
  // candidates run out, e.g. a vocabulary smaller than 2 * num_beams or several eos ids).
  int32_t num_live() const { return static_cast<int32_t>(live_.size()); }
  // Beam `beam`'s generated tokens (decoder start excluded); beam in [0, num_live()).
  absl::Span<const int32_t> live_tokens(int32_t beam) const;
  // Beam `beam`'s running sum of log-probabilities.
  float live_sum_logprob(int32_t beam) const;

  // Advances one step. `logits` holds [num_live(), vocab] raw f32 logits of the live beams in
  // order; they are used as scratch and overwritten. Returns, for each new live beam, the index of
  // its parent among the previous live beams; empty once done() (then there is nothing left to
  // run). A call when done() or with vocab <= 0 returns empty and ends the search.
  std::vector<int32_t> Step(float* logits, int64_t vocab);

  bool done() const { return done_; }
  // Steps taken so far (= the live beams' token count).
  int32_t steps() const { return steps_; }
  // Finished hypotheses kept so far (at most num_beams).
  int32_t num_finished() const { return static_cast<int32_t>(finished_.size()); }

  // The n-best list: up to num_return_sequences hypotheses, best first. Meant for done().
  std::vector<BeamHypothesis> Results() const;

 private:
  struct Beam {
    std::vector<int32_t> sequence;  // [decoder_start] + generated, as no-repeat-ngram wants it
    float sum_logprob = 0.0f;
  };
  struct Finished {
    BeamHypothesis hypothesis;
    int64_t order = 0;  // insertion counter: transformers' tie behaviour depends on it
  };
  struct Candidate {
    float score = 0.0f;
    int64_t flat = 0;  // beam * vocab + token
  };

  bool IsEos(int32_t token) const;
  void ProcessRow(const Beam& beam, float* row, int64_t vocab) const;
  void SelectTopCandidates(const float* scores, int64_t vocab);
  // transformers' BeamHypotheses.add.
  void Offer(std::vector<int32_t> tokens, float sum_logprob, bool ended_with_eos);
  double Normalize(float sum_logprob, double length) const;
  double WorstKeptScore() const;
  bool CriterionSaysDone() const;

  BeamSearchOptions options_;
  std::vector<Beam> live_;
  std::vector<Finished> finished_;
  std::vector<Candidate> candidates_;  // scratch: the top 2B of a step
  int64_t next_order_ = 0;
  int32_t steps_ = 0;
  bool done_ = false;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_BEAM_SEARCH_H_
