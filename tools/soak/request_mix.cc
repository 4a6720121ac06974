#include "tools/soak/request_mix.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ember::soak {

absl::string_view RequestKindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kNormal:
      return "normal";
    case RequestKind::kCancel:
      return "cancel";
    case RequestKind::kDeadline:
      return "deadline";
    case RequestKind::kSlowRead:
      return "slow";
    case RequestKind::kInvalid:
      return "invalid";
  }
  return "unknown";
}

std::optional<RequestKind> RequestKindFromName(absl::string_view name) {
  for (RequestKind kind : kAllRequestKinds) {
    if (RequestKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

RequestMix::RequestMix() : weights_{50, 15, 15, 10, 10}, total_(100) {}

absl::StatusOr<RequestMix> RequestMix::Parse(absl::string_view spec) {
  RequestMix mix;
  mix.weights_ = {};
  mix.total_ = 0;
  std::array<bool, kNumRequestKinds> seen{};
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::vector<absl::string_view> parts = absl::StrSplit(entry, '=');
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("mix entry \"", entry, "\": expected kind=weight"));
    }
    const std::optional<RequestKind> kind =
        RequestKindFromName(absl::StripAsciiWhitespace(parts[0]));
    if (!kind.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("mix entry \"", entry,
                       "\": unknown kind (one of normal, cancel, deadline, slow, invalid)"));
    }
    int weight = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(parts[1]), &weight) || weight < 0 ||
        weight > 1'000'000) {
      return absl::InvalidArgumentError(
          absl::StrCat("mix entry \"", entry, "\": weight must be an integer in [0, 1000000]"));
    }
    const int index = static_cast<int>(*kind);
    if (seen[index]) {
      return absl::InvalidArgumentError(
          absl::StrCat("mix entry \"", entry, "\": kind given twice"));
    }
    seen[index] = true;
    mix.weights_[index] = weight;
    mix.total_ += weight;
  }
  if (mix.total_ == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mix \"", spec, "\": at least one kind needs a positive weight"));
  }
  return mix;
}

RequestKind RequestMix::Pick(uint64_t draw) const {
  uint64_t point = draw % static_cast<uint64_t>(total_);
  for (RequestKind kind : kAllRequestKinds) {
    const auto w = static_cast<uint64_t>(weights_[static_cast<int>(kind)]);
    if (point < w) return kind;
    point -= w;
  }
  return RequestKind::kNormal;  // unreachable: point < total_
}

std::string RequestMix::ToString() const {
  std::vector<std::string> entries;
  for (RequestKind kind : kAllRequestKinds) {
    if (weight(kind) > 0) entries.push_back(absl::StrCat(RequestKindName(kind), "=", weight(kind)));
  }
  return absl::StrJoin(entries, ",");
}

}  // namespace ember::soak
