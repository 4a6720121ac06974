#include "core/model/step_scratch.h"

#include <algorithm>
#include <cstring>

namespace ember {

void StepScratch::Reserve(int64_t rows) {
  if (rows <= reserved_rows_) return;
  rows = std::max(rows, 2 * reserved_rows_);
  const size_t r = static_cast<size_t>(rows);
  const size_t compute = DTypeSize(compute_);
  auto bytes = [r](int64_t width, size_t element) {
    return r * static_cast<size_t>(width) * element;
  };
  tokens_.resize(r);
  positions_.resize(r);
  residual_ = AlignedBuffer(bytes(widths_.hidden, sizeof(float)));
  normed_ = AlignedBuffer(bytes(widths_.hidden, compute));
  projected_ = AlignedBuffer(bytes(widths_.projected, sizeof(float)));
  attention_ = AlignedBuffer(bytes(widths_.attention, compute));
  mlp_ = AlignedBuffer(bytes(widths_.mlp, sizeof(float)));
  activated_ = AlignedBuffer(bytes(widths_.activated, compute));
  for (AlignedBuffer* b : {&residual_, &normed_, &projected_, &attention_, &mlp_, &activated_}) {
    std::memset(b->data(), 0, b->size());
  }
  reserved_rows_ = rows;
}

}  // namespace ember
