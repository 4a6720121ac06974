// A small, deterministic byte-pair-encoding trainer (Sennrich et al. 2016), the algorithm of
// Hugging Face's BpeTrainer and SentencePiece's BPE mode, sized for a few kilobytes of text.
//
// Each round counts adjacent symbol pairs over the word counts, merges the most frequent pair
// everywhere (ties: the byte-wise smallest (left, right) pair, so the result never depends on
// hash order), and records the merge. Recounting every round costs O(symbols) per merge, which is
// milliseconds for the corpus sizes this tool uses.
#ifndef EMBER_TOOLS_MAKE_MODEL_BPE_TRAINER_H_
#define EMBER_TOOLS_MAKE_MODEL_BPE_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace ember::tools {

// One distinct word of the corpus, split into its initial symbols, and how often it occurs.
struct TrainingWord {
  std::vector<std::string> symbols;
  int64_t count = 0;
};

struct BpeTrainerOptions {
  // Stop once this many distinct new tokens exist (0: no limit).
  int64_t max_new_tokens = 0;
  // Stop when the most frequent pair occurs fewer times than this (>= 1).
  int64_t min_frequency = 2;
  // Initial symbols for which this returns true never merge (Llama and Qwen2 spell numbers digit
  // by digit). Null: every symbol may merge.
  std::function<bool(absl::string_view)> is_frozen;
};

struct BpeTrainingResult {
  // Merges in priority order: (left, right), whose concatenation is a token.
  std::vector<std::pair<std::string, std::string>> merges;
  // The distinct tokens the merges created, in creation order. Shorter than `merges` when two
  // merges spell the same token ("a"+"bc" and "ab"+"c").
  std::vector<std::string> new_tokens;
};

BpeTrainingResult TrainBpe(const std::vector<TrainingWord>& words,
                           const BpeTrainerOptions& options);

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_BPE_TRAINER_H_
