// Tensor shapes and non-owning views over tensor bytes (e.g. inside an mmapped checkpoint).
#ifndef EMBER_CORE_TENSOR_SHAPE_H_
#define EMBER_CORE_TENSOR_SHAPE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/tensor/dtype.h"

namespace ember {

using Shape = std::vector<int64_t>;

// "[2, 3, 4]".
std::string ShapeToString(absl::Span<const int64_t> shape);

// Product of the dimensions, checked: INVALID_ARGUMENT for a negative dimension or when the
// product overflows int64. An empty shape (a scalar) has one element.
absl::StatusOr<int64_t> CheckedNumElements(absl::Span<const int64_t> shape);

// A read-only view of one tensor's bytes. Does not own the memory: valid while whatever owns the
// bytes (a SafetensorsFile, a weight arena) lives.
struct TensorView {
  DType dtype = DType::kF32;
  Shape shape;
  const void* data = nullptr;
  size_t num_bytes = 0;

  int64_t NumElements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

}  // namespace ember

#endif  // EMBER_CORE_TENSOR_SHAPE_H_
