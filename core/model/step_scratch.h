// The buffers a forward step runs in, one row per token of the step (or of MarianModel's encoder
// batch), grown to the largest step seen and kept. ModelBase owns one for DecoderModel and
// MarianModel; the two differ only in how wide the rows are (StepWidths).
#ifndef EMBER_CORE_MODEL_STEP_SCRATCH_H_
#define EMBER_CORE_MODEL_STEP_SCRATCH_H_

#include <cstdint>
#include <vector>

#include "core/tensor/aligned_buffer.h"
#include "core/tensor/dtype.h"

namespace ember {

// Elements per row of each buffer; each buffer's element type is fixed (see StepScratch).
struct StepWidths {
  int64_t hidden = 0;     // residual and normed
  int64_t projected = 0;  // q|k|v, or the parts of it one projection writes
  int64_t attention = 0;  // attention output, the output projection's input
  int64_t mlp = 0;        // the MLP's first projection (gate|up, c_fc, fc1)
  int64_t activated = 0;  // the MLP's second projection's input
};

class StepScratch {
 public:
  // `compute`: the element type of the buffers that feed a matmul (F32 or BF16).
  StepScratch(const StepWidths& widths, DType compute) : widths_(widths), compute_(compute) {}

  // Grows every row buffer to hold `rows` rows (at least doubling, so a growing batch reallocates
  // rarely). New buffers are zeroed: the padding rows a row class adds only ever hold finite
  // values.
  void Reserve(int64_t rows);

  int32_t* tokens() { return tokens_.data(); }
  int32_t* positions() { return positions_.data(); }
  float* residual() { return residual_.as<float>(); }
  void* normed() { return normed_.data(); }
  float* projected() { return projected_.as<float>(); }
  void* attention() { return attention_.data(); }
  float* mlp() { return mlp_.as<float>(); }
  void* activated() { return activated_.data(); }
  // The LM head's output when its row class pads (ForwardPaddedRows sizes it on demand).
  AlignedBuffer& logits() { return logits_; }

 private:
  const StepWidths widths_;
  const DType compute_;
  int64_t reserved_rows_ = 0;
  std::vector<int32_t> tokens_;     // [rows]
  std::vector<int32_t> positions_;  // [rows]
  AlignedBuffer residual_;          // [rows, hidden] f32: the residual stream x
  AlignedBuffer normed_;            // [rows, hidden] compute: a sub-layer's input
  AlignedBuffer projected_;         // [rows, projected] f32
  AlignedBuffer attention_;         // [rows, attention] compute
  AlignedBuffer mlp_;               // [rows, mlp] f32
  AlignedBuffer activated_;         // [rows, activated] compute
  AlignedBuffer logits_;            // [RowClass(logit rows), vocab] f32, when padded
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_STEP_SCRATCH_H_
