// Perplexity of a text by Hugging Face's strided sliding-window recipe (the transformers
// documentation's "Perplexity of fixed-length models"): windows of at most `context` tokens whose
// starts advance by `stride`; each window scores only the tokens no earlier window scored, so with
// stride < context every token after the first is scored exactly once, with at least
// context - stride tokens of context before it at a window's start. (With stride = context the
// windows are disjoint and each window's first token goes unscored, as in the recipe.)
//
// The mean is over tokens (total negative log-likelihood / tokens scored), not over windows as the
// recipe's short form averages per-window means: the two agree when every window scores as many
// tokens, and the per-token mean is the text's perplexity when they do not.
#ifndef EMBER_CLIENT_CLI_PERPLEXITY_H_
#define EMBER_CLIENT_CLI_PERPLEXITY_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace ember::client {

struct PerplexityWindow {
  int64_t begin = 0;  // the window is tokens [begin, end)
  int64_t end = 0;
  // The first token this window scores (the tokens before it are context only): begin + 1 for the
  // first window, else the previous window's end.
  int64_t first_scored = 0;
};

// The windows over `num_tokens` tokens. INVALID_ARGUMENT unless num_tokens >= 2 and
// 1 <= stride <= context, context >= 2.
absl::Status PlanWindows(int64_t num_tokens, int64_t context, int64_t stride,
                         std::vector<PerplexityWindow>* windows);

// Sums the scored tokens' log-probabilities.
class PerplexityTotal {
 public:
  // `prompt_logprobs[i]` is the log-probability of window token begin + 1 + i (the API's
  // prompt_logprobs); INVALID_ARGUMENT if it does not hold end - begin - 1 entries.
  absl::Status Add(const PerplexityWindow& window, const std::vector<double>& prompt_logprobs);

  int64_t tokens() const { return tokens_; }
  // Mean negative log-likelihood per scored token (nats), and exp of it.
  double mean_nll() const;
  double perplexity() const;

 private:
  int64_t tokens_ = 0;
  double nll_ = 0.0;
};

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_PERPLEXITY_H_
