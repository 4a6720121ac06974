// Prompt log-probabilities (the API's prompt_logprobs): the log-probability of every prompt token
// given the tokens before it, and optionally the most likely alternatives at each position, as
// vLLM's prompt_logprobs gives them. The model hands each prompt position's logits to the scorer
// as the LM head produces them (LogitRowSink); the scorer reduces the row to its few numbers at
// once and keeps nothing of it.
//
// The distribution is the model's own: log_softmax of the raw logits, with no penalty,
// temperature or truncation (those shape sampling, not the text's likelihood).
#ifndef EMBER_CORE_ENGINE_PROMPT_SCORER_H_
#define EMBER_CORE_ENGINE_PROMPT_SCORER_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/engine/sampler.h"
#include "core/model/model.h"

namespace ember {

class PromptScorer : public LogitRowSink {
 public:
  // Scores prompt[1..] (the first token has no context); `top` alternatives per position, in
  // [0, kMaxTopLogprobs]. `prompt` must outlive the scorer.
  PromptScorer(absl::Span<const int32_t> prompt, int32_t top);

  // The row at `position` scores prompt[position + 1]. Rows past the prompt's last token, and
  // rows already scored (a preempted request recomputes its prompt), are ignored.
  void Consume(int64_t position, absl::Span<const float> logits) override;

  // Every prompt token after the first has its entry.
  bool done() const;
  // Entry i is prompt token i + 1: its id, logprob and alternatives. Moves them out.
  std::vector<SampledToken> Take();

 private:
  absl::Span<const int32_t> prompt_;
  int32_t top_;
  std::vector<SampledToken> scored_;
  std::vector<int32_t> order_;  // scratch: token ids for the top-N selection
};

// log_softmax(logits)[token] and the `top` most likely tokens (ties by lower id), over a row that
// may hold NaN (counted as -inf) or infinities; -inf for every token when no logit is finite.
SampledToken ScoreToken(absl::Span<const float> logits, int32_t token, int32_t top,
                        std::vector<int32_t>& scratch);

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_PROMPT_SCORER_H_
