#include "core/tensor/dtype.h"

#include "absl/strings/str_cat.h"

namespace ember {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
  }
  return 0;
}

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
  }
  return "?";
}

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  if (name == "F32") return DType::kF32;
  if (name == "F16") return DType::kF16;
  if (name == "BF16") return DType::kBF16;
  static constexpr absl::string_view kKnownButUnsupported[] = {
      "F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64", "BOOL", "F8_E4M3", "F8_E5M2"};
  for (absl::string_view known : kKnownButUnsupported) {
    if (name == known) {
      return absl::InvalidArgumentError(
          absl::StrCat("dtype \"", name, "\" is not supported (ember loads F32, F16 and BF16)"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype \"", name, "\""));
}

}  // namespace ember
