#include "tools/make_model/bpe_trainer.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"

namespace ember::tools {
namespace {

// Symbols as dense ids; ids keep their strings for tie-breaking and output.
class SymbolTable {
 public:
  int32_t Intern(const std::string& text, bool frozen) {
    const auto [it, inserted] = ids_.emplace(text, static_cast<int32_t>(texts_.size()));
    if (inserted) {
      texts_.push_back(text);
      frozen_.push_back(frozen);
    }
    return it->second;
  }
  bool Contains(const std::string& text) const { return ids_.contains(text); }
  const std::string& Text(int32_t id) const { return texts_[id]; }
  bool Frozen(int32_t id) const { return frozen_[id]; }

 private:
  std::map<std::string, int32_t> ids_;
  std::vector<std::string> texts_;
  std::vector<bool> frozen_;
};

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

BpeTrainingResult TrainBpe(const std::vector<TrainingWord>& words,
                           const BpeTrainerOptions& options) {
  SymbolTable symbols;
  std::vector<std::vector<int32_t>> spelled;
  std::vector<int64_t> counts;
  for (const TrainingWord& word : words) {
    std::vector<int32_t> ids;
    for (const std::string& symbol : word.symbols) {
      ids.push_back(symbols.Intern(symbol, options.is_frozen && options.is_frozen(symbol)));
    }
    spelled.push_back(std::move(ids));
    counts.push_back(word.count);
  }

  BpeTrainingResult result;
  absl::flat_hash_map<uint64_t, int64_t> pair_counts;
  while (options.max_new_tokens == 0 ||
         static_cast<int64_t>(result.new_tokens.size()) < options.max_new_tokens) {
    pair_counts.clear();
    for (size_t w = 0; w < spelled.size(); ++w) {
      const std::vector<int32_t>& ids = spelled[w];
      for (size_t i = 0; i + 1 < ids.size(); ++i) {
        if (symbols.Frozen(ids[i]) || symbols.Frozen(ids[i + 1])) continue;
        pair_counts[PairKey(ids[i], ids[i + 1])] += counts[w];
      }
    }
    // The best pair by (count desc, left text, right text): independent of hash iteration order.
    int64_t best_count = 0;
    int32_t best_left = -1;
    int32_t best_right = -1;
    for (const auto& [key, count] : pair_counts) {
      const auto left = static_cast<int32_t>(key >> 32);
      const auto right = static_cast<int32_t>(key & 0xFFFFFFFFu);
      bool better = count > best_count;
      if (!better && count == best_count) {
        const int c = symbols.Text(left).compare(symbols.Text(best_left));
        better = c < 0 || (c == 0 && symbols.Text(right) < symbols.Text(best_right));
      }
      if (better) {
        best_count = count;
        best_left = left;
        best_right = right;
      }
    }
    if (best_left < 0 || best_count < std::max<int64_t>(options.min_frequency, 1)) break;

    const std::string merged = symbols.Text(best_left) + symbols.Text(best_right);
    if (!symbols.Contains(merged)) result.new_tokens.push_back(merged);
    const int32_t merged_id = symbols.Intern(merged, /*frozen=*/false);
    result.merges.emplace_back(symbols.Text(best_left), symbols.Text(best_right));
    for (std::vector<int32_t>& ids : spelled) {
      size_t out = 0;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == best_left && ids[i + 1] == best_right) {
          ids[out++] = merged_id;
          ++i;
        } else {
          ids[out++] = ids[i];
        }
      }
      ids.resize(out);
    }
  }
  return result;
}

}  // namespace ember::tools
