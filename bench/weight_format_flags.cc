#include "bench/weight_format_flags.h"

#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "core/engine/weight_format.h"

ABSL_FLAG(std::string, weight_format, "dtype",
          "Weight format, as ember_server's flag: dtype (weights in --dtype), int8 or int4");
ABSL_FLAG(int32_t, weight_group_size, 0, "Quantization group size (0: the format's default)");

namespace ember::bench {

absl::StatusOr<std::optional<quant::QuantScheme>> WeightFormatFromFlags() {
  return ParseWeightFormat(absl::GetFlag(FLAGS_weight_format),
                           absl::GetFlag(FLAGS_weight_group_size), "--weight_format",
                           "--weight_group_size");
}

absl::StatusOr<std::optional<quant::QuantScheme>> WeightFormatNamed(absl::string_view format,
                                                                    absl::string_view flag_name) {
  return ParseWeightFormat(format, absl::GetFlag(FLAGS_weight_group_size), flag_name,
                           "--weight_group_size");
}

}  // namespace ember::bench
