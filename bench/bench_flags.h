// Flag parsing the engine benchmarks share: the compute dtype and lists of sizes.
#ifndef EMBER_BENCH_BENCH_FLAGS_H_
#define EMBER_BENCH_BENCH_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

// --dtype: "f32" or "bf16"; INVALID_ARGUMENT naming the flag otherwise.
absl::StatusOr<DType> ParseComputeFlag(const std::string& s);

// A comma-separated list of positive sizes (or non-negative when `allow_zero`); errors name
// `flag`.
absl::StatusOr<std::vector<int64_t>> ParseSizes(const std::string& s, absl::string_view flag,
                                                bool allow_zero);

}  // namespace ember::bench

#endif  // EMBER_BENCH_BENCH_FLAGS_H_
