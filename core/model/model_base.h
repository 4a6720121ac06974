// The base of both Model implementations, DecoderModel and MarianModel: what they hold alike (the
// config, the compute type, the context served, the scratch a step runs in) and the parts of
// Forward and PrepareShapes that do not depend on the architecture: checking a step, laying its
// tokens out in rows, the embedding gather, gathering the rows that want logits and preparing the
// LM head for them.
#ifndef EMBER_CORE_MODEL_MODEL_BASE_H_
#define EMBER_CORE_MODEL_MODEL_BASE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/paged_attention.h"
#include "core/model/model.h"
#include "core/model/model_config.h"
#include "core/model/step_scratch.h"
#include "core/tensor/dtype.h"

namespace ember {

// config.max_context, capped by options.max_context when that is set: the longest decoder sequence
// a model loaded with `options` serves.
int64_t ServedContext(const ModelConfig& config, const ModelOptions& options);

class ModelBase : public Model {
 public:
  const ModelConfig& config() const final { return config_; }
  DType compute() const final { return compute_; }
  const std::string& weight_format() const final { return weight_format_; }
  int64_t max_context() const final { return max_context_; }

 protected:
  ModelBase(const ModelConfig& config, DType compute, int64_t max_context, const StepWidths& widths,
            std::string weight_format);

  // A projection as PrepareShapes prepares it; `accumulate` for those adding into x.
  struct Projection {
    LinearLayer* linear;
    bool accumulate;
  };
  // Creates each projection's primitives for every row class up to `max_rows`.
  static absl::Status PrepareProjections(absl::Span<const Projection> projections,
                                         int64_t max_rows);
  static int64_t PrimitivesCreated(absl::Span<const Projection> projections);

  // PrepareShapes' part both models share: INVALID_ARGUMENT unless 0 < max_logit_rows <= max_rows;
  // then `lm_head`'s primitives for every row class up to max_logit_rows, and the scratch its
  // padded output goes through.
  absl::Status PrepareLogitRows(int64_t max_rows, int64_t max_logit_rows, LinearLayer& lm_head);

  // INVALID_ARGUMENT for a step with no tokens or reaching past max_context(); else the position
  // after its last token.
  absl::StatusOr<int64_t> CheckPositions(const SequenceStep& step) const;
  // INTERNAL for an id outside the vocabulary. A guard, not validation: requests are checked
  // before they reach the engine's loop (core/engine/request_validation.h), so such an id is a
  // bug. It costs one compare per token and keeps the embedding lookups in bounds.
  absl::Status CheckTokenIds(absl::Span<const int32_t> ids) const;

  // Lays the steps' tokens out row after row: scratch().tokens() and positions() (past + i), and
  // returns each step's causal self-attention over its block_table.
  std::vector<AttentionSequence> LayOutRows(absl::Span<const SequenceStep> steps);
  // x[r] = row scratch().tokens()[r] of an embedding table [vocab, hidden] of `dtype`, in f32, for
  // the first `rows` rows; each model then adds its positions.
  void GatherEmbeddings(const void* table, DType dtype, int64_t rows);
  // Copies the residual row of the last token of each step wanting logits, in order, to `out`
  // ([wanted, hidden] f32); returns how many were wanted.
  int64_t GatherLogitRows(absl::Span<const SequenceStep> steps, float* out);
  // The rows of every step with a row_sink, a slice of up to RowClass(max_logit_rows) rows at a
  // time: `final_norm` (in: f32 [n, hidden] rows of x; out: the LM head's input) into `normed`,
  // the LM head into a slice-sized buffer made on first use, then each row to the sink. `x` is the
  // residual after the last layer, laid out as LayOutRows did. Costs nothing without sinks.
  using FinalNorm = std::function<void(const float* in, int64_t rows, void* out)>;
  absl::Status ScoreRows(absl::Span<const SequenceStep> steps, const float* x,
                         const FinalNorm& final_norm, void* normed, LinearLayer& lm_head);

  StepScratch& scratch() { return scratch_; }

  const ModelConfig config_;
  const DType compute_;
  const int64_t max_context_;
  const std::string weight_format_;

 private:
  StepScratch scratch_;
  // ScoreRows' slice: RowClass(max_logit_rows) of PrepareLogitRows (1 before it), and its logits.
  int64_t score_rows_ = 1;
  AlignedBuffer score_logits_;
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_MODEL_BASE_H_
