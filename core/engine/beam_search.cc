#include "core/engine/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/engine/logits_processors.h"
#include "core/kernels/row_scan.h"

namespace ember {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

absl::Status CheckToken(absl::string_view field, int32_t token, int64_t vocab) {
  if (token >= 0 && (vocab <= 0 || token < vocab)) return absl::OkStatus();
  if (vocab <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be >= 0, got ", token));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in [0, ", vocab, "), got ", token));
}

}  // namespace

absl::Status ValidateBeamSearchOptions(const BeamSearchOptions& o, int64_t vocab) {
  if (o.num_beams < 1 || o.num_beams > kMaxNumBeams) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_beams must be in [1, ", kMaxNumBeams, "], got ", o.num_beams));
  }
  if (!std::isfinite(o.length_penalty)) {
    return absl::InvalidArgumentError(
        absl::StrCat("length_penalty must be finite, got ", o.length_penalty));
  }
  if (o.early_stopping != EarlyStopping::kHeuristic && o.early_stopping != EarlyStopping::kTrue &&
      o.early_stopping != EarlyStopping::kNever) {
    return absl::InvalidArgumentError("early_stopping must be false, true or never");
  }
  if (o.no_repeat_ngram_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no_repeat_ngram_size must be >= 0, got ", o.no_repeat_ngram_size));
  }
  if (o.max_new_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_new_tokens must be >= 1, got ", o.max_new_tokens));
  }
  if (o.num_return_sequences < 1 || o.num_return_sequences > o.num_beams) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_return_sequences must be in [1, num_beams = ", o.num_beams, "], got ",
                     o.num_return_sequences));
  }
  for (int32_t t : o.eos_ids) {
    if (auto s = CheckToken("eos_ids", t, vocab); !s.ok()) return s;
  }
  for (int32_t t : o.banned_tokens) {
    if (auto s = CheckToken("banned_tokens", t, vocab); !s.ok()) return s;
  }
  if (o.forced_eos.has_value()) {
    if (auto s = CheckToken("forced_eos", *o.forced_eos, vocab); !s.ok()) return s;
  }
  return CheckToken("decoder_start", o.decoder_start, vocab);
}

BeamSearch::BeamSearch(BeamSearchOptions options) : options_(std::move(options)) {
  // Step 0 starts from one empty beam (transformers starts B copies, all but the first at -1e9,
  // which only matters when a beam has fewer than 2B finite candidates).
  Beam start;
  start.sequence.push_back(options_.decoder_start);
  live_.push_back(std::move(start));
  candidates_.reserve(2 * static_cast<size_t>(std::max(options_.num_beams, 1)));
}

absl::Span<const int32_t> BeamSearch::live_tokens(int32_t beam) const {
  return absl::MakeConstSpan(live_[static_cast<size_t>(beam)].sequence).subspan(1);
}

float BeamSearch::live_sum_logprob(int32_t beam) const {
  return live_[static_cast<size_t>(beam)].sum_logprob;
}

bool BeamSearch::IsEos(int32_t token) const {
  return std::find(options_.eos_ids.begin(), options_.eos_ids.end(), token) !=
         options_.eos_ids.end();
}

// Step 1 of docs/MARIAN.md for one beam: log_softmax, the processors in transformers' order, then
// the candidate scores sum_logprob + logprob[v] (a float addition, like the f32 torch tensors).
void BeamSearch::ProcessRow(const Beam& beam, float* row, int64_t vocab) const {
  LogSoftmax(row, vocab);
  if (options_.no_repeat_ngram_size > 0) {
    BanNoRepeatNgrams(beam.sequence, options_.no_repeat_ngram_size, row, vocab);
  }
  BanTokens(options_.banned_tokens, row, vocab);
  if (options_.forced_eos.has_value() && steps_ == options_.max_new_tokens - 1) {
    ForceToken(*options_.forced_eos, row, vocab);
  }
  for (int64_t v = 0; v < vocab; ++v) row[v] = beam.sum_logprob + row[v];
}

// Step 2: the top 2B candidates over all rows, best first. A heap of the K best seen so far with
// the worst on top keeps this O(B * V) (plus O(log K) per candidate that enters the heap). The
// rows are scanned in increasing flat index, so a newcomer that only ties the worst kept candidate
// loses the tie-break and is skipped by the cheap `<=` test.
void BeamSearch::SelectTopCandidates(const float* scores, int64_t vocab) {
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.score > b.score || (a.score == b.score && a.flat < b.flat);
  };
  const int64_t total = static_cast<int64_t>(live_.size()) * vocab;
  const size_t k = static_cast<size_t>(std::min<int64_t>(2 * int64_t{options_.num_beams}, total));
  candidates_.clear();
  int64_t flat = 0;
  for (; flat < total && candidates_.size() < k; ++flat) {
    // LogSoftmax removed NaN and nothing adds +inf, but keep the ordering strict-weak regardless.
    const float score = std::isnan(scores[flat]) ? kMinusInf : scores[flat];
    candidates_.push_back({score, flat});
    std::push_heap(candidates_.begin(), candidates_.end(), better);
  }
  // The heap is full: only a score above the worst kept one can enter (a NaN never does), so the
  // scan jumps from one such score to the next.
  while (flat < total) {
    flat += FirstAbove(scores + flat, total - flat, candidates_.front().score);
    if (flat == total) break;
    std::pop_heap(candidates_.begin(), candidates_.end(), better);
    candidates_.back() = {scores[flat], flat};
    std::push_heap(candidates_.begin(), candidates_.end(), better);
    ++flat;
  }
  std::sort(candidates_.begin(), candidates_.end(), better);
}

double BeamSearch::Normalize(float sum_logprob, double length) const {
  return static_cast<double>(sum_logprob) / std::pow(length, options_.length_penalty);
}

double BeamSearch::WorstKeptScore() const {
  double worst = std::numeric_limits<double>::infinity();
  for (const Finished& f : finished_) worst = std::min(worst, f.hypothesis.score);
  return worst;
}

void BeamSearch::Offer(std::vector<int32_t> tokens, float sum_logprob, bool ended_with_eos) {
  const double score = Normalize(sum_logprob, static_cast<double>(tokens.size()));
  const size_t capacity = static_cast<size_t>(options_.num_beams);
  if (finished_.size() >= capacity && !(score > WorstKeptScore())) return;
  Finished f;
  f.hypothesis.tokens = std::move(tokens);
  f.hypothesis.score = score;
  f.hypothesis.sum_logprob = static_cast<double>(sum_logprob);
  f.hypothesis.ended_with_eos = ended_with_eos;
  f.order = next_order_++;
  finished_.push_back(std::move(f));
  if (finished_.size() > capacity) {
    // The lowest score goes, the earliest added among equals (transformers sorts (score, index)).
    auto worst = std::min_element(
        finished_.begin(), finished_.end(), [](const Finished& a, const Finished& b) {
          return a.hypothesis.score < b.hypothesis.score ||
                 (a.hypothesis.score == b.hypothesis.score && a.order < b.order);
        });
    finished_.erase(worst);
  }
}

// Step 4's criterion, right after step steps_ - 1 (the live beams hold steps_ tokens).
bool BeamSearch::CriterionSaysDone() const {
  if (finished_.size() < static_cast<size_t>(options_.num_beams)) return false;
  if (options_.early_stopping == EarlyStopping::kTrue) return true;
  // The live beams were collected best first.
  const float best_sum = live_.front().sum_logprob;
  const double length =
      options_.early_stopping == EarlyStopping::kNever && options_.length_penalty > 0.0
          ? static_cast<double>(options_.max_new_tokens)
          : static_cast<double>(steps_);
  return WorstKeptScore() >= Normalize(best_sum, length);
}

std::vector<int32_t> BeamSearch::Step(float* logits, int64_t vocab) {
  if (done_ || vocab <= 0 || logits == nullptr) {
    done_ = true;
    return {};
  }
  for (size_t b = 0; b < live_.size(); ++b) {
    ProcessRow(live_[b], logits + static_cast<int64_t>(b) * vocab, vocab);
  }
  SelectTopCandidates(logits, vocab);

  // Step 3: eos candidates in the top B finish, the others are dropped; the rest become the new
  // live beams, best first, until B of them.
  const size_t num_beams = static_cast<size_t>(options_.num_beams);
  std::vector<Beam> next;
  std::vector<int32_t> parents;
  next.reserve(num_beams);
  parents.reserve(num_beams);
  for (size_t rank = 0; rank < candidates_.size() && next.size() < num_beams; ++rank) {
    const Candidate& c = candidates_[rank];
    const int32_t parent = static_cast<int32_t>(c.flat / vocab);
    const int32_t token = static_cast<int32_t>(c.flat % vocab);
    const Beam& from = live_[static_cast<size_t>(parent)];
    if (IsEos(token)) {
      if (rank >= num_beams) continue;
      std::vector<int32_t> tokens(from.sequence.begin() + 1, from.sequence.end());
      tokens.push_back(token);
      Offer(std::move(tokens), c.score, /*ended_with_eos=*/true);
      continue;
    }
    Beam beam;
    beam.sequence.reserve(from.sequence.size() + 1);
    beam.sequence = from.sequence;
    beam.sequence.push_back(token);
    beam.sum_logprob = c.score;
    next.push_back(std::move(beam));
    parents.push_back(parent);
  }
  live_ = std::move(next);
  ++steps_;

  // Step 4, then step 5's finalization unless the criterion ended the search.
  if (live_.empty()) {
    done_ = true;
  } else if (CriterionSaysDone()) {
    done_ = true;
  } else if (steps_ >= options_.max_new_tokens) {
    done_ = true;
    for (const Beam& beam : live_) {
      Offer(std::vector<int32_t>(beam.sequence.begin() + 1, beam.sequence.end()), beam.sum_logprob,
            /*ended_with_eos=*/false);
    }
  }
  if (done_) return {};
  return parents;
}

std::vector<BeamHypothesis> BeamSearch::Results() const {
  std::vector<const Finished*> sorted;
  sorted.reserve(finished_.size());
  for (const Finished& f : finished_) sorted.push_back(&f);
  // Best first; equal scores latest-added first (transformers' stable ascending sort + pop()).
  std::sort(sorted.begin(), sorted.end(), [](const Finished* a, const Finished* b) {
    return a->hypothesis.score > b->hypothesis.score ||
           (a->hypothesis.score == b->hypothesis.score && a->order > b->order);
  });
  const size_t n =
      std::min(sorted.size(), static_cast<size_t>(std::max(options_.num_return_sequences, 0)));
  std::vector<BeamHypothesis> results;
  results.reserve(n);
  for (size_t i = 0; i < n; ++i) results.push_back(sorted[i]->hypothesis);
  return results;
}

}  // namespace ember
