#include "client/cli/perplexity.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace ember::client {

absl::Status PlanWindows(int64_t num_tokens, int64_t context, int64_t stride,
                         std::vector<PerplexityWindow>* windows) {
  if (num_tokens < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("the text has ", num_tokens, " tokens; perplexity needs at least 2"));
  }
  if (context < 2) {
    return absl::InvalidArgumentError(absl::StrCat("--context=", context, ": must be >= 2"));
  }
  if (stride < 1 || stride > context) {
    return absl::InvalidArgumentError(
        absl::StrCat("--stride=", stride, ": must be in [1, --context = ", context, "]"));
  }
  windows->clear();
  int64_t previous_end = 0;
  for (int64_t begin = 0; begin < num_tokens; begin += stride) {
    PerplexityWindow w;
    w.begin = begin;
    w.end = std::min(begin + context, num_tokens);
    w.first_scored = std::max(previous_end, begin + 1);
    windows->push_back(w);
    previous_end = w.end;
    if (w.end == num_tokens) break;
  }
  return absl::OkStatus();
}

absl::Status PerplexityTotal::Add(const PerplexityWindow& window,
                                  const std::vector<double>& prompt_logprobs) {
  const int64_t expected = window.end - window.begin - 1;
  if (static_cast<int64_t>(prompt_logprobs.size()) != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("the window of tokens [", window.begin, ", ", window.end, ") came back with ",
                     prompt_logprobs.size(), " prompt log-probabilities, expected ", expected));
  }
  for (int64_t t = window.first_scored; t < window.end; ++t) {
    nll_ -= prompt_logprobs[static_cast<size_t>(t - window.begin - 1)];
    ++tokens_;
  }
  return absl::OkStatus();
}

double PerplexityTotal::mean_nll() const {
  return tokens_ == 0 ? 0.0 : nll_ / static_cast<double>(tokens_);
}

double PerplexityTotal::perplexity() const { return std::exp(mean_nll()); }

}  // namespace ember::client
