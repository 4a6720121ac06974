// Counts of finished soak streams: per kind, per status code and finish reason, with tokens and a
// few examples of unexpected endings. A plain value type; LoadGenerator guards its copy.
#ifndef EMBER_TOOLS_SOAK_SOAK_TALLY_H_
#define EMBER_TOOLS_SOAK_SOAK_TALLY_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/soak/request_mix.h"
#include "tools/soak/stream_outcome.h"

namespace ember::soak {

struct KindTally {
  // Streams that ended with a status, by code.
  std::map<absl::StatusCode, int64_t> by_code;
  // Streams that ended OK, by finish reason name ("eos", "length", ...).
  std::map<std::string, int64_t> ok_by_finish_reason;
  int64_t ended = 0;
  int64_t unexpected = 0;
  int64_t tokens = 0;
};

class SoakTally {
 public:
  // How many unexpected endings keep their details for the report.
  static constexpr int kMaxExamples = 10;

  void Add(const StreamOutcome& outcome);

  const KindTally& kind(RequestKind k) const { return kinds_[static_cast<int>(k)]; }
  int64_t ended() const;
  int64_t unexpected() const;
  int64_t tokens() const;
  // Every status code seen, over all kinds, in code order.
  std::vector<absl::StatusCode> codes_seen() const;
  // The first kMaxExamples unexpected endings, in the order they were added.
  const std::vector<StreamOutcome>& unexpected_examples() const { return examples_; }

 private:
  std::array<KindTally, kNumRequestKinds> kinds_;
  std::vector<StreamOutcome> examples_;
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_SOAK_TALLY_H_
