// Projections that must write exactly as many output rows as the caller asked for, while running
// on the padded row class the model prepared a primitive for (onednn::Linear::RowClass).
#ifndef EMBER_CORE_MODEL_PADDED_ROWS_H_
#define EMBER_CORE_MODEL_PADDED_ROWS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/kernels/linear_layer.h"
#include "core/kernels/onednn/linear.h"
#include "core/tensor/aligned_buffer.h"

namespace ember {

// y[rows, out] = linear(x) for the first `rows` rows of x, computed over RowClass(rows) rows: x
// must hold that many (the padding rows are scratch whose results nobody reads). When the class
// pads, the output goes through `scratch` (grown on demand) and only `rows` rows reach `y`, which
// may then hold exactly `rows` rows (the engine's logits buffer does).
absl::Status ForwardPaddedRows(LinearLayer& linear, const void* x, int64_t rows, float* y,
                               AlignedBuffer& scratch);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_PADDED_ROWS_H_
