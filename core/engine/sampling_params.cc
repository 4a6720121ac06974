#include "core/engine/sampling_params.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ember {
namespace {

// NaN fails every comparison, so `!(lo <= v && v <= hi)` rejects it too.
absl::Status CheckRange(absl::string_view field, double value, double lo, double hi,
                        bool lo_open = false) {
  const bool ok = (lo_open ? lo < value : lo <= value) && value <= hi;
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in ", lo_open ? "(" : "[", lo, ", ", hi, "], got ", value));
}

}  // namespace

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  if (auto s = CheckRange("temperature", p.temperature, 0, 100); !s.ok()) return s;
  if (p.top_k < 0) {
    return absl::InvalidArgumentError(absl::StrCat("top_k must be >= 0, got ", p.top_k));
  }
  if (auto s = CheckRange("top_p", p.top_p, 0, 1, /*lo_open=*/true); !s.ok()) return s;
  if (auto s = CheckRange("min_p", p.min_p, 0, 1); !s.ok()) return s;
  if (auto s = CheckRange("repetition_penalty", p.repetition_penalty, 0, 10, true); !s.ok()) {
    return s;
  }
  if (auto s = CheckRange("presence_penalty", p.presence_penalty, -2, 2); !s.ok()) return s;
  if (auto s = CheckRange("frequency_penalty", p.frequency_penalty, -2, 2); !s.ok()) return s;
  if (p.top_logprobs < 0 || p.top_logprobs > 20) {
    return absl::InvalidArgumentError(
        absl::StrCat("top_logprobs must be in [0, 20], got ", p.top_logprobs));
  }
  return absl::OkStatus();
}

}  // namespace ember
