#include "core/model/weight_plan.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/tensor/half.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

size_t RoundUp64(size_t n) { return (n + 63) / 64 * 64; }

// Appends `view`'s values as f32 (views may be unaligned: read through memcpy).
void AppendF32(const TensorView& view, std::vector<float>& out) {
  const size_t count = static_cast<size_t>(view.NumElements());
  const size_t start = out.size();
  out.resize(start + count);
  const auto* bytes = static_cast<const unsigned char*>(view.data);
  if (view.dtype == DType::kF32) {
    std::memcpy(out.data() + start, bytes, count * sizeof(float));
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, sizeof(h));
    out[start + i] = view.dtype == DType::kBF16 ? Bf16ToFloat(h) : HalfToFloat(h);
  }
}

size_t CopyBytes(const CopyJob& job) {
  return RoundUp64(static_cast<size_t>(job.view.NumElements()) * DTypeSize(job.store));
}

}  // namespace

absl::StatusOr<TensorView> ExpectTensor(const Checkpoint& checkpoint, const std::string& name,
                                        const Shape& expected) {
  if (!checkpoint.Contains(name)) {
    return absl::NotFoundError(absl::StrCat(checkpoint.dir(), ": checkpoint has no tensor \"", name,
                                            "\" (required by config.json)"));
  }
  ASSIGN_OR_RETURN(TensorView view, checkpoint.Get(name));
  if (view.shape != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        checkpoint.dir(), "/", checkpoint.FileOf(name), ": tensor \"", name, "\" has shape ",
        ShapeToString(view.shape), " but config.json implies ", ShapeToString(expected)));
  }
  return view;
}

absl::Status ExecuteWeightPlan(WeightPlan& plan, DecoderWeights& weights) {
  size_t total = 0;
  for (const LinearJob& job : plan.linears) {
    ASSIGN_OR_RETURN(size_t bytes, onednn::Linear::StorageBytes(job.shape));
    total += RoundUp64(bytes);
  }
  for (const CopyJob& job : plan.copies) total += CopyBytes(job);
  ASSIGN_OR_RETURN(weights.arena, WeightArena::Create(total));

  for (CopyJob& job : plan.copies) {
    void* dst = weights.arena.Allocate(CopyBytes(job));
    if (dst == nullptr) return absl::InternalError("weight arena undersized (copy)");
    std::vector<float> values;
    AppendF32(job.view, values);
    if (job.store == DType::kBF16) {
      auto* out = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < values.size(); ++i) out[i] = FloatToBf16(values[i]);
    } else {
      std::memcpy(dst, values.data(), values.size() * sizeof(float));
    }
    *job.target = dst;
  }
  for (LinearJob& job : plan.linears) {
    ASSIGN_OR_RETURN(size_t bytes, onednn::Linear::StorageBytes(job.shape));
    void* storage = weights.arena.Allocate(bytes);
    if (storage == nullptr) return absl::InternalError("weight arena undersized (linear)");
    std::vector<float> stacked;
    onednn::WeightSource source;
    if (job.parts.size() == 1) {
      source = {job.parts[0].data, job.parts[0].dtype, job.layout};
    } else {
      for (const TensorView& part : job.parts) AppendF32(part, stacked);
      source = {stacked.data(), DType::kF32, onednn::WeightLayout::kOutIn};
    }
    std::vector<float> bias;
    for (const TensorView& part : job.bias_parts) AppendF32(part, bias);
    ASSIGN_OR_RETURN(
        *job.target,
        onednn::Linear::Create(job.shape, source, bias.empty() ? nullptr : bias.data(), storage));
  }
  return absl::OkStatus();
}

}  // namespace ember
