#include "core/model/padded_rows.h"

#include <cstring>

namespace ember {

absl::Status ForwardPaddedRows(LinearLayer& linear, const void* x, int64_t rows, float* y,
                               AlignedBuffer& scratch) {
  const int64_t padded = onednn::Linear::RowClass(rows);
  if (padded == rows) return linear.Forward(x, rows, y);
  const int64_t out = linear.out();
  const size_t bytes = static_cast<size_t>(padded * out) * sizeof(float);
  if (scratch.size() < bytes) scratch = AlignedBuffer(bytes);
  absl::Status status = linear.Forward(x, padded, scratch.as<float>());
  if (!status.ok()) return status;
  std::memcpy(y, scratch.data(), static_cast<size_t>(rows * out) * sizeof(float));
  return absl::OkStatus();
}

}  // namespace ember
