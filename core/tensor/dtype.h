// Element types ember stores and computes in.
#ifndef EMBER_CORE_TENSOR_DTYPE_H_
#define EMBER_CORE_TENSOR_DTYPE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
};

// Bytes per element.
size_t DTypeSize(DType dtype);

// The safetensors spelling: "F32", "F16", "BF16".
absl::string_view DTypeName(DType dtype);

// Parses a safetensors dtype string. Types ember does not load (I8, F64, BOOL, ...) and unknown
// strings give INVALID_ARGUMENT naming the string.
absl::StatusOr<DType> ParseDType(absl::string_view name);

}  // namespace ember

#endif  // EMBER_CORE_TENSOR_DTYPE_H_
