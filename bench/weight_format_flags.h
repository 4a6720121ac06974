// The --weight_format / --weight_group_size flags every engine benchmark takes, defined once: the
// same values as ember_server's flags of the same names (core/engine/weight_format.h).
#ifndef EMBER_BENCH_WEIGHT_FORMAT_FLAGS_H_
#define EMBER_BENCH_WEIGHT_FORMAT_FLAGS_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kernels/quant/quant_format.h"

namespace ember::bench {

// The scheme the flags ask for; nullopt for --weight_format=dtype. INVALID_ARGUMENT naming the
// flag.
absl::StatusOr<std::optional<quant::QuantScheme>> WeightFormatFromFlags();
// The scheme of `format` (dtype, int8 or int4) with --weight_group_size: for a flag that lists
// formats; errors name `flag_name`.
absl::StatusOr<std::optional<quant::QuantScheme>> WeightFormatNamed(absl::string_view format,
                                                                    absl::string_view flag_name);

}  // namespace ember::bench

#endif  // EMBER_BENCH_WEIGHT_FORMAT_FLAGS_H_
