#include "core/model/model_base.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/padded_rows.h"
#include "core/tensor/half.h"
#include "core/util/status_macros.h"

namespace ember {

int64_t ServedContext(const ModelConfig& config, const ModelOptions& options) {
  if (options.max_context > 0) return std::min(config.max_context, options.max_context);
  return config.max_context;
}

ModelBase::ModelBase(const ModelConfig& config, DType compute, int64_t max_context,
                     const StepWidths& widths, std::string weight_format)
    : config_(config),
      compute_(compute),
      max_context_(max_context),
      weight_format_(std::move(weight_format)),
      scratch_(widths, compute) {}

absl::Status ModelBase::PrepareProjections(absl::Span<const Projection> projections,
                                           int64_t max_rows) {
  for (const Projection& p : projections) {
    for (int64_t m : onednn::Linear::RowClassesUpTo(max_rows)) {
      RETURN_IF_ERROR(p.linear->Prepare(m, p.accumulate));
    }
  }
  return absl::OkStatus();
}

int64_t ModelBase::PrimitivesCreated(absl::Span<const Projection> projections) {
  int64_t n = 0;
  for (const Projection& p : projections) n += p.linear->primitives_created();
  return n;
}

absl::Status ModelBase::PrepareLogitRows(int64_t max_rows, int64_t max_logit_rows,
                                         LinearLayer& lm_head) {
  if (max_rows <= 0 || max_logit_rows <= 0 || max_logit_rows > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat("PrepareShapes: need 0 < max_logit_rows (",
                                                   max_logit_rows, ") <= max_rows (", max_rows,
                                                   ")"));
  }
  for (int64_t m : onednn::Linear::RowClassesUpTo(max_logit_rows)) {
    RETURN_IF_ERROR(lm_head.Prepare(m, /*accumulate=*/false));
  }
  const int64_t logit_rows = onednn::Linear::RowClass(max_logit_rows);
  score_rows_ = logit_rows;
  scratch_.logits() =
      AlignedBuffer(static_cast<size_t>(logit_rows * config_.vocab_size) * sizeof(float));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ModelBase::CheckPositions(const SequenceStep& step) const {
  if (step.tokens.empty()) return absl::InvalidArgumentError("forward step with no tokens");
  const int64_t end = step.past + static_cast<int64_t>(step.tokens.size());
  if (end > max_context_) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence reaches position ", end, ", past the context of ", max_context_));
  }
  return end;
}

absl::Status ModelBase::CheckTokenIds(absl::Span<const int32_t> ids) const {
  for (int32_t t : ids) {
    if (t < 0 || t >= config_.vocab_size) {
      return absl::InternalError(absl::StrCat("Forward: unchecked token id ", t));
    }
  }
  return absl::OkStatus();
}

std::vector<AttentionSequence> ModelBase::LayOutRows(absl::Span<const SequenceStep> steps) {
  std::vector<AttentionSequence> sequences;
  sequences.reserve(steps.size());
  int32_t* tokens = scratch_.tokens();
  int32_t* positions = scratch_.positions();
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    AttentionSequence a;
    a.first_row = row;
    a.num_rows = static_cast<int64_t>(s.tokens.size());
    a.past = s.past;
    a.block_table = s.block_table.data();
    sequences.push_back(a);
    for (size_t i = 0; i < s.tokens.size(); ++i, ++row) {
      tokens[row] = s.tokens[i];
      positions[row] = static_cast<int32_t>(s.past + static_cast<int64_t>(i));
    }
  }
  return sequences;
}

void ModelBase::GatherEmbeddings(const void* table, DType dtype, int64_t rows) {
  const size_t h = static_cast<size_t>(config_.hidden_size);
  const size_t row_bytes = h * DTypeSize(dtype);
  const int32_t* tokens = scratch_.tokens();
  float* x = scratch_.residual();
  for (int64_t r = 0; r < rows; ++r) {
    const size_t token = static_cast<size_t>(tokens[r]);
    WidenToF32(static_cast<const unsigned char*>(table) + token * row_bytes, dtype, h,
               x + static_cast<size_t>(r) * h);
  }
}

int64_t ModelBase::GatherLogitRows(absl::Span<const SequenceStep> steps, float* out) {
  const int64_t h = config_.hidden_size;
  const float* x = scratch_.residual();
  int64_t wanted = 0;
  int64_t row = 0;
  for (const SequenceStep& s : steps) {
    row += static_cast<int64_t>(s.tokens.size());
    if (!s.want_logits) continue;
    std::memcpy(out + wanted * h, x + (row - 1) * h, static_cast<size_t>(h) * sizeof(float));
    ++wanted;
  }
  return wanted;
}

absl::Status ModelBase::ScoreRows(absl::Span<const SequenceStep> steps, const float* x,
                                  const FinalNorm& final_norm, void* normed, LinearLayer& lm_head) {
  const int64_t h = config_.hidden_size, vocab = config_.vocab_size;
  int64_t first_row = 0;
  for (const SequenceStep& s : steps) {
    const int64_t rows = static_cast<int64_t>(s.tokens.size());
    if (s.row_sink != nullptr) {
      const size_t slice_bytes = static_cast<size_t>(score_rows_ * vocab) * sizeof(float);
      if (score_logits_.size() < slice_bytes) score_logits_ = AlignedBuffer(slice_bytes);
      float* logits = score_logits_.as<float>();
      for (int64_t done = 0; done < rows; done += score_rows_) {
        const int64_t n = std::min(score_rows_, rows - done);
        final_norm(x + (first_row + done) * h, n, normed);
        RETURN_IF_ERROR(ForwardPaddedRows(lm_head, normed, n, logits, scratch_.logits()));
        for (int64_t r = 0; r < n; ++r) {
          s.row_sink->Consume(s.past + done + r,
                              absl::MakeConstSpan(logits + r * vocab, static_cast<size_t>(vocab)));
        }
      }
    }
    first_row += rows;
  }
  return absl::OkStatus();
}

}  // namespace ember
