// The --weight_format / --weight_group_size flags every engine benchmark takes, defined once: the
// same values as ember_server's flags of the same names (core/engine/weight_format.h).
#ifndef EMBER_BENCH_WEIGHT_FORMAT_FLAGS_H_
#define EMBER_BENCH_WEIGHT_FORMAT_FLAGS_H_

#include <optional>

#include "absl/status/statusor.h"
#include "core/kernels/quant/quant_format.h"

namespace ember::bench {

// The scheme the flags ask for; nullopt for --weight_format=dtype. INVALID_ARGUMENT naming the
// flag.
absl::StatusOr<std::optional<quant::QuantScheme>> WeightFormatFromFlags();

}  // namespace ember::bench

#endif  // EMBER_BENCH_WEIGHT_FORMAT_FLAGS_H_
