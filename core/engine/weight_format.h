// The weight format a user names (a server flag, a benchmark option) turned into the engine's
// option: "dtype" keeps the weights in the compute type; "int8" / "int4" quantize them at load.
#ifndef EMBER_CORE_ENGINE_WEIGHT_FORMAT_H_
#define EMBER_CORE_ENGINE_WEIGHT_FORMAT_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/kernels/quant/quant_format.h"

namespace ember {

// `format`: dtype, int8 or int4 (any case). `group_size`: input features per scale, 32, 64 or
// 128; 0 picks the default (128 for int8, 64 for int4) and is the only value allowed with dtype.
// nullopt for dtype. INVALID_ARGUMENT naming `format_name` or `group_name` (the caller's names
// for the two, e.g. "--weight_format") otherwise.
absl::StatusOr<std::optional<quant::QuantScheme>> ParseWeightFormat(absl::string_view format,
                                                                    int32_t group_size,
                                                                    absl::string_view format_name,
                                                                    absl::string_view group_name);

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_WEIGHT_FORMAT_H_
