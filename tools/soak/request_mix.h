// The kinds of request a soak sends and how often each is picked.
#ifndef EMBER_TOOLS_SOAK_REQUEST_MIX_H_
#define EMBER_TOOLS_SOAK_REQUEST_MIX_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::soak {

// What a soak client does with one streaming request; each kind has its own expected endings
// (expected_status.h).
enum class RequestKind {
  kNormal,    // reads to the end
  kCancel,    // cancels after k tokens
  kDeadline,  // sends a short deadline
  kSlowRead,  // sleeps between reads
  kInvalid,   // sends a request the server must refuse
};

inline constexpr int kNumRequestKinds = 5;
inline constexpr std::array<RequestKind, kNumRequestKinds> kAllRequestKinds = {
    RequestKind::kNormal, RequestKind::kCancel, RequestKind::kDeadline, RequestKind::kSlowRead,
    RequestKind::kInvalid};

// "normal", "cancel", "deadline", "slow", "invalid": the names --mix uses.
absl::string_view RequestKindName(RequestKind kind);
std::optional<RequestKind> RequestKindFromName(absl::string_view name);

// The mix a soak uses unless told otherwise: mostly normal streams, every other kind often enough
// to run thousands of times in a 30-minute soak.
inline constexpr absl::string_view kDefaultRequestMix =
    "normal=50,cancel=15,deadline=15,slow=10,invalid=10";

// Relative weights of the kinds; a kind with weight 0 is never picked.
class RequestMix {
 public:
  // kDefaultRequestMix.
  RequestMix();
  // Parses "normal=50,cancel=15,deadline=15,slow=10,invalid=10". Kinds left out get weight 0;
  // weights are non-negative integers and at least one must be positive. INVALID_ARGUMENT names
  // the offending entry.
  static absl::StatusOr<RequestMix> Parse(absl::string_view spec);

  // The kind whose cumulative-weight interval holds `draw` modulo the total weight; a uniform
  // 64-bit draw gives each kind its share (the modulo bias is below 2^-50 for sane weights).
  RequestKind Pick(uint64_t draw) const;

  int weight(RequestKind kind) const { return weights_[static_cast<int>(kind)]; }
  int total_weight() const { return total_; }
  // Back to the Parse format, kinds in kAllRequestKinds order, zero weights left out.
  std::string ToString() const;

 private:
  std::array<int, kNumRequestKinds> weights_{};
  int total_ = 0;
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_REQUEST_MIX_H_
