#include "core/engine/weight_format.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ember {

absl::StatusOr<std::optional<quant::QuantScheme>> ParseWeightFormat(absl::string_view format,
                                                                    int32_t group_size,
                                                                    absl::string_view format_name,
                                                                    absl::string_view group_name) {
  const std::string lower = absl::AsciiStrToLower(format);
  if (lower == "dtype") {
    if (group_size != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(group_name, ": applies only to the int8 and int4 weight formats"));
    }
    return std::optional<quant::QuantScheme>();
  }
  if (lower != "int8" && lower != "int4") {
    return absl::InvalidArgumentError(
        absl::StrCat(format_name, ": must be dtype, int8 or int4, got \"", format, "\""));
  }
  const int bits = lower == "int8" ? 8 : 4;
  const quant::QuantScheme scheme{bits, group_size != 0 ? group_size : (bits == 8 ? 128 : 64)};
  if (!quant::ValidateScheme(scheme).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        group_name, ": must be 32, 64 or 128 (or 0 for the default), got ", group_size));
  }
  return std::optional<quant::QuantScheme>(scheme);
}

}  // namespace ember
