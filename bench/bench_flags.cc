#include "bench/bench_flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ember::bench {

absl::StatusOr<DType> ParseComputeFlag(const std::string& s) {
  if (s == "f32") return DType::kF32;
  if (s == "bf16") return DType::kBF16;
  return absl::InvalidArgumentError(absl::StrCat("--dtype=", s, ": use f32 or bf16"));
}

absl::StatusOr<std::vector<int64_t>> ParseSizes(const std::string& s, absl::string_view flag,
                                                bool allow_zero) {
  std::vector<int64_t> sizes;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    int64_t b = 0;
    if (!absl::SimpleAtoi(part, &b) || b < 0 || (b == 0 && !allow_zero)) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": bad size \"", part, "\""));
    }
    sizes.push_back(b);
  }
  if (sizes.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is empty"));
  return sizes;
}

}  // namespace ember::bench
