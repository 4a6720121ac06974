#include "core/model/weight_plan.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/tensor/aligned_buffer.h"
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

// Drops the whole pages inside `view` from the process (see WeightPlan::release_source_pages).
void ReleaseSourcePages(const TensorView& view) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(view.data);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + view.num_bytes) / page * page;
  // Advice only: a failure leaves the pages resident, which costs memory, not correctness.
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

bool SameDType(const std::vector<TensorView>& views) {
  for (const TensorView& v : views) {
    if (v.dtype != views[0].dtype) return false;
  }
  return true;
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
    if (plan.release_source_pages) ReleaseSourcePages(job.view);
  }
  for (LinearJob& job : plan.linears) {
    ASSIGN_OR_RETURN(size_t bytes, onednn::Linear::StorageBytes(job.shape));
    void* storage = weights.arena.Allocate(bytes);
    if (storage == nullptr) return absl::InternalError("weight arena undersized (linear)");
    // Stacked parts ([out_i, in] each, stacked along out) are concatenated in their own dtype
    // when they share one, so Linear reorders them without a widening copy; else as f32.
    std::vector<float> stacked;
    AlignedBuffer concatenated;
    onednn::WeightSource source;
    if (job.parts.size() == 1) {
      source = {job.parts[0].data, job.parts[0].dtype, job.layout};
    } else if (SameDType(job.parts)) {
      size_t total_bytes = 0;
      for (const TensorView& part : job.parts) total_bytes += part.num_bytes;
      concatenated = AlignedBuffer(total_bytes);
      auto* out = concatenated.as<unsigned char>();
      for (const TensorView& part : job.parts) {
        std::memcpy(out, part.data, part.num_bytes);
        out += part.num_bytes;
      }
      source = {concatenated.data(), job.parts[0].dtype, onednn::WeightLayout::kOutIn};
    } else {
      for (const TensorView& part : job.parts) AppendF32(part, stacked);
      source = {stacked.data(), DType::kF32, onednn::WeightLayout::kOutIn};
    }
    std::vector<float> bias;
    for (const TensorView& part : job.bias_parts) AppendF32(part, bias);
    ASSIGN_OR_RETURN(
        *job.target,
        onednn::Linear::Create(job.shape, source, bias.empty() ? nullptr : bias.data(), storage));
    if (plan.release_source_pages) {
      for (const TensorView& part : job.parts) ReleaseSourcePages(part);
      for (const TensorView& part : job.bias_parts) ReleaseSourcePages(part);
    }
  }
  return absl::OkStatus();
}

}  // namespace ember
