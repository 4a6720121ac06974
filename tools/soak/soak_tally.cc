#include "tools/soak/soak_tally.h"

#include <set>

#include "tools/soak/expected_status.h"

namespace ember::soak {

void SoakTally::Add(const StreamOutcome& outcome) {
  KindTally& t = kinds_[static_cast<int>(outcome.kind)];
  ++t.ended;
  ++t.by_code[outcome.code];
  t.tokens += outcome.tokens;
  if (outcome.code == absl::StatusCode::kOk) {
    ++t.ok_by_finish_reason[FinishReasonName(outcome.finish_reason)];
  }
  if (!IsExpectedEnding(outcome.kind, outcome.code, outcome.finish_reason)) {
    ++t.unexpected;
    if (static_cast<int>(examples_.size()) < kMaxExamples) examples_.push_back(outcome);
  }
}

int64_t SoakTally::ended() const {
  int64_t n = 0;
  for (const KindTally& t : kinds_) n += t.ended;
  return n;
}

int64_t SoakTally::unexpected() const {
  int64_t n = 0;
  for (const KindTally& t : kinds_) n += t.unexpected;
  return n;
}

int64_t SoakTally::tokens() const {
  int64_t n = 0;
  for (const KindTally& t : kinds_) n += t.tokens;
  return n;
}

std::vector<absl::StatusCode> SoakTally::codes_seen() const {
  std::set<absl::StatusCode> codes;
  for (const KindTally& t : kinds_) {
    for (const auto& [code, count] : t.by_code) codes.insert(code);
  }
  return {codes.begin(), codes.end()};
}

}  // namespace ember::soak
