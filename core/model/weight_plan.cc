#include "core/model/weight_plan.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kernels/quant/quant_linear.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/half.h"
#include "core/util/logging.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

// Appends `view`'s values as f32.
void AppendF32(const TensorView& view, std::vector<float>& out) {
  const size_t count = static_cast<size_t>(view.NumElements());
  const size_t start = out.size();
  out.resize(start + count);
  WidenToF32(view.data, view.dtype, count, out.data() + start);
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

// Where a missing tensor was looked for, for messages.
std::string CheckpointFiles(const Checkpoint& checkpoint) {
  return checkpoint.sharded() ? absl::StrCat("any shard listed by ", Checkpoint::kIndexFileName)
                              : std::string(Checkpoint::kSingleFileName);
}

// The number of `elements` (unaligned, little-endian `Bits` each) with every bit of `mask` set.
// Counting in blocks into a counter as wide as the element lets the compiler vectorize lane for
// lane (about twice as fast for 16-bit types as an int64 counter); blocks of 2^15 cannot wrap it.
template <typename Bits>
int64_t CountAllOnes(const unsigned char* bytes, size_t elements, Bits mask) {
  constexpr size_t kBlock = size_t{1} << 15;
  int64_t count = 0;
  for (size_t start = 0; start < elements; start += kBlock) {
    const size_t end = std::min(elements, start + kBlock);
    Bits block = 0;
    for (size_t i = start; i < end; ++i) {
      Bits bits;
      std::memcpy(&bits, bytes + sizeof(Bits) * i, sizeof(bits));
      block = static_cast<Bits>(block + ((bits & mask) == mask));
    }
    count += block;
  }
  return count;
}

// Records `view` in plan.non_finite when it holds NaN or +-Inf. `scanned` holds the views already
// counted: a tied embedding is read by two jobs but reported once.
void ScanForNonFinite(const TensorView& view, absl::flat_hash_set<const void*>& scanned,
                      WeightPlan& plan) {
  if (view.num_bytes == 0 || !scanned.insert(view.data).second) return;
  const int64_t count = CountNonFinite(view);
  if (count > 0) plan.non_finite.push_back({view.data, count, view.NumElements()});
}

// Checkpoint entries that are buffers, not weights: HF stores GPT-2's causal mask and older Llama
// checkpoints their rotary inv_freq. They are recomputed, so they are expected to go unused.
// Marian checkpoints may store their fixed sinusoidal position tables, which ember recomputes.
bool IsKnownBuffer(absl::string_view name) {
  return absl::EndsWith(name, ".attn.bias") || absl::EndsWith(name, ".attn.masked_bias") ||
         absl::EndsWith(name, "rotary_emb.inv_freq") ||
         absl::EndsWith(name, "embed_positions.weight");
}

quant::QuantLinearShape QuantShapeOf(const LinearJob& job, const quant::QuantScheme& scheme) {
  return {job.shape.in,         job.shape.out,      scheme,
          job.shape.activation, job.shape.has_bias, job.shape.compute};
}

// Bytes of the arena one linear job takes, in the format it is packed in.
absl::StatusOr<size_t> LinearBytes(const WeightPlan& plan, const LinearJob& job) {
  if (plan.quantization.Quantizes(job.target)) {
    return quant::QuantLinear::StorageBytes(QuantShapeOf(job, *plan.quantization.scheme));
  }
  return onednn::Linear::StorageBytes(job.shape);
}

// Packs one job's weights (`source`, `bias`) into `storage` in the format the plan asks for.
absl::StatusOr<std::unique_ptr<LinearLayer>> CreateLinear(const WeightPlan& plan,
                                                          const LinearJob& job,
                                                          const onednn::WeightSource& source,
                                                          const float* bias, void* storage) {
  if (plan.quantization.Quantizes(job.target)) {
    const quant::WeightMatrixSource matrix{source.data, source.dtype, job.shape.out, job.shape.in,
                                           source.layout == onednn::WeightLayout::kInOut};
    ASSIGN_OR_RETURN(std::unique_ptr<quant::QuantLinear> layer,
                     quant::QuantLinear::Create(QuantShapeOf(job, *plan.quantization.scheme),
                                                matrix, bias, storage));
    return std::unique_ptr<LinearLayer>(std::move(layer));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<onednn::Linear> layer,
                   onednn::Linear::Create(job.shape, source, bias, storage));
  return std::unique_ptr<LinearLayer>(std::move(layer));
}

}  // namespace

absl::Status LoadWeights(const std::string& model_dir, WeightPlanner planner,
                         const WeightQuantization& quantization, WeightArena& arena) {
  ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint, Checkpoint::Open(model_dir));
  std::vector<std::string> used;
  ASSIGN_OR_RETURN(WeightPlan plan, planner(*checkpoint, used));
  WarnAboutUnusedTensors(*checkpoint, used);
  for (const auto& file : checkpoint->files()) {
    (void)file->Advise(SafetensorsFile::Access::kSequential);
  }
  plan.release_source_pages = true;  // every view points into the checkpoint's mappings
  plan.quantization = quantization;
  RETURN_IF_ERROR(ExecuteWeightPlan(plan, arena));
  WarnAboutNonFiniteWeights(*checkpoint, plan.non_finite);
  return absl::OkStatus();  // the checkpoint is unmapped here
}

onednn::LinearActivation ToLinearActivation(Activation a) {
  switch (a) {
    case Activation::kGeluTanh:
      return onednn::LinearActivation::kGeluTanh;
    case Activation::kGeluErf:
      return onednn::LinearActivation::kGeluErf;
    case Activation::kSilu:
      return onednn::LinearActivation::kSilu;
    case Activation::kRelu:
      return onednn::LinearActivation::kRelu;
  }
  return onednn::LinearActivation::kNone;
}

void WarnAboutUnusedTensors(const Checkpoint& checkpoint, const std::vector<std::string>& used) {
  absl::flat_hash_set<std::string> used_set(used.begin(), used.end());
  std::vector<std::string> unused;
  for (const std::string& name : checkpoint.TensorNames()) {
    if (!used_set.contains(name) && !IsKnownBuffer(name)) unused.push_back(name);
  }
  if (unused.empty()) return;
  const size_t shown = std::min<size_t>(unused.size(), 8);
  EMBER_LOG(WARNING) << checkpoint.dir() << ": " << unused.size()
                     << " checkpoint tensor(s) not used by the architecture: "
                     << absl::StrJoin(unused.begin(), unused.begin() + static_cast<long>(shown),
                                      ", ")
                     << (unused.size() > shown ? ", ..." : "");
}

// Names each checkpoint tensor ExecuteWeightPlan found holding NaN or +-Inf (see
// WeightPlan::non_finite for why they load anyway).
void WarnAboutNonFiniteWeights(const Checkpoint& checkpoint,
                               const std::vector<NonFiniteSource>& found) {
  if (found.empty()) return;
  absl::flat_hash_map<const void*, const NonFiniteSource*> by_data;
  for (const NonFiniteSource& source : found) by_data.emplace(source.data, &source);
  for (const std::string& name : checkpoint.TensorNames()) {
    const absl::StatusOr<TensorView> view = checkpoint.Get(name);
    if (!view.ok() || view->num_bytes == 0) continue;
    const auto it = by_data.find(view->data);
    if (it == by_data.end()) continue;
    EMBER_LOG(WARNING) << checkpoint.dir() << "/" << checkpoint.FileOf(name) << ": tensor \""
                       << name << "\" holds " << it->second->count
                       << " non-finite value(s) (NaN or Inf) among its " << it->second->elements
                       << " elements; loaded as is, but outputs that read them will be NaN";
  }
}

int64_t CountNonFinite(const TensorView& view) {
  const auto* bytes = static_cast<const unsigned char*>(view.data);
  const size_t elements = static_cast<size_t>(view.NumElements());
  // NaN and +-Inf are exactly the values whose exponent bits are all ones.
  switch (view.dtype) {
    case DType::kF32:
      return CountAllOnes<uint32_t>(bytes, elements, 0x7f800000u);
    case DType::kBF16:
      return CountAllOnes<uint16_t>(bytes, elements, 0x7f80);
    case DType::kF16:
      return CountAllOnes<uint16_t>(bytes, elements, 0x7c00);
  }
  return 0;
}

absl::StatusOr<TensorView> ExpectTensor(const Checkpoint& checkpoint, const std::string& name,
                                        const Shape& expected) {
  if (!checkpoint.Contains(name)) {
    return absl::NotFoundError(absl::StrCat(checkpoint.dir(), ": no tensor \"", name, "\" in ",
                                            CheckpointFiles(checkpoint),
                                            " (required by config.json)"));
  }
  ASSIGN_OR_RETURN(TensorView view, checkpoint.Get(name));
  if (view.shape != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        checkpoint.dir(), "/", checkpoint.FileOf(name), ": tensor \"", name, "\" has shape ",
        ShapeToString(view.shape), " but config.json implies ", ShapeToString(expected)));
  }
  return view;
}

absl::Status ExpectLastLayer(const Checkpoint& checkpoint, const std::string& name,
                             absl::string_view layers_field, int64_t num_layers) {
  if (checkpoint.Contains(name)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(checkpoint.dir(), "/config.json: field '", layers_field,
                                          "' is ", num_layers, " but there is no tensor \"", name,
                                          "\" (its last layer) in ", CheckpointFiles(checkpoint)));
}

absl::Status ExecuteWeightPlan(WeightPlan& plan, WeightArena& arena) {
  size_t total = 0;
  for (const LinearJob& job : plan.linears) {
    ASSIGN_OR_RETURN(size_t bytes, LinearBytes(plan, job));
    total += RoundUp64(bytes);
  }
  for (const CopyJob& job : plan.copies) total += CopyBytes(job);
  ASSIGN_OR_RETURN(arena, WeightArena::Create(total));

  absl::flat_hash_set<const void*> scanned;
  for (CopyJob& job : plan.copies) {
    ScanForNonFinite(job.view, scanned, plan);
    void* dst = arena.Allocate(CopyBytes(job));
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
    ASSIGN_OR_RETURN(size_t bytes, LinearBytes(plan, job));
    void* storage = arena.Allocate(bytes);
    if (storage == nullptr) return absl::InternalError("weight arena undersized (linear)");
    for (const TensorView& part : job.parts) ScanForNonFinite(part, scanned, plan);
    for (const TensorView& part : job.bias_parts) ScanForNonFinite(part, scanned, plan);
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
    ASSIGN_OR_RETURN(*job.target, CreateLinear(plan, job, source,
                                               bias.empty() ? nullptr : bias.data(), storage));
    if (plan.release_source_pages) {
      for (const TensorView& part : job.parts) ReleaseSourcePages(part);
      for (const TensorView& part : job.bias_parts) ReleaseSourcePages(part);
    }
  }
  return absl::OkStatus();
}

}  // namespace ember
