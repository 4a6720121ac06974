// Loading weights in two passes: an architecture describes every weight it needs as a job (which
// checkpoint tensors, expected shapes, where the result goes); the plan is validated and sized
// first, then one arena is allocated and the jobs are executed. A checkpoint that is missing a
// tensor or has one of the wrong shape fails before any large allocation.
#ifndef EMBER_CORE_MODEL_WEIGHT_PLAN_H_
#define EMBER_CORE_MODEL_WEIGHT_PLAN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/kernels/linear_layer.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/quant/quant_format.h"
#include "core/model/checkpoint.h"
#include "core/model/decoder_weights.h"
#include "core/model/model_config.h"
#include "core/model/weight_arena.h"
#include "core/tensor/shape.h"

namespace ember {

// A Linear built from one or more checkpoint tensors. With several parts (q, k, v; gate, up) each
// is an [out_i, in] matrix in kOutIn layout and they are stacked along the output dimension.
struct LinearJob {
  onednn::LinearShape shape;
  std::vector<TensorView> parts;
  onednn::WeightLayout layout = onednn::WeightLayout::kOutIn;
  std::vector<TensorView> bias_parts;  // concatenated; empty when shape.has_bias is false
  std::unique_ptr<LinearLayer>* target = nullptr;
};

// Which projections are quantized at load (core/kernels/quant/quant_format.h), and how.
struct WeightQuantization {
  std::optional<quant::QuantScheme> scheme;  // nullopt: every projection stays in shape.compute
  // The LM head's job (by its target) is quantized only when `lm_head_too`.
  const std::unique_ptr<LinearLayer>* lm_head = nullptr;
  bool lm_head_too = true;

  // Whether the job writing `target` is quantized.
  bool Quantizes(const std::unique_ptr<LinearLayer>* target) const {
    return scheme.has_value() && (target != lm_head || lm_head_too);
  }
};

// A vector (norm weight/bias) or table (embeddings) copied into the arena.
struct CopyJob {
  TensorView view;
  DType store = DType::kF32;  // F32 or BF16
  const void** target = nullptr;
};

// A source tensor found holding NaN or +-Inf while its job was packed.
struct NonFiniteSource {
  const void* data = nullptr;  // the view's data, which identifies the checkpoint tensor
  int64_t count = 0;           // non-finite elements
  int64_t elements = 0;        // all elements of the tensor
};

struct WeightPlan {
  std::vector<LinearJob> linears;
  std::vector<CopyJob> copies;
  // Set by LoadWeights (or a test): linears it quantizes are packed as quant::QuantLinear, reading
  // activations of their shape.compute type; the others as onednn::Linear.
  WeightQuantization quantization;
  // Filled by ExecuteWeightPlan: each source view (once, however many jobs read it) that holds NaN
  // or +-Inf. Such weights are still packed, as transformers loads them: the caller warns, naming
  // the tensor, because a poisoned row (e.g. an unused padding row of the embedding) may never be
  // read, while a poisoned projection makes every output NaN.
  std::vector<NonFiniteSource> non_finite;
  // Every view points into a read-only file mapping (the checkpoint): once a job has packed its
  // tensors, their pages are dropped from this process (MADV_DONTNEED), so the load's peak RSS is
  // the arena plus one job's sources instead of the arena plus the whole checkpoint. A later job
  // reading the same tensor (tied embeddings) faults it back in from the page cache. Never set it
  // for views into ordinary memory: dropping anonymous pages zeroes them.
  bool release_source_pages = false;
};

// Looks up `name` in the checkpoint and checks its shape. Errors name the directory, the file, the
// tensor, the shape found and the shape the config implies.
absl::StatusOr<TensorView> ExpectTensor(const Checkpoint& checkpoint, const std::string& name,
                                        const Shape& expected);

// Checks that the checkpoint holds `name`, a tensor of the last layer, before anything is sized by
// the layer count config.json gives in `layers_field`: an inflated count then fails by naming the
// field and the tensor instead of by allocating per-layer state for layers that do not exist.
absl::Status ExpectLastLayer(const Checkpoint& checkpoint, const std::string& name,
                             absl::string_view layers_field, int64_t num_layers);

// ExpectLastLayer for the tensor "<prefix><num_layers - 1><suffix>", then `layers` sized to
// num_layers: what every architecture does before planning its layers one by one.
template <typename Layer>
absl::Status SizeLayers(const Checkpoint& checkpoint, absl::string_view prefix,
                        absl::string_view suffix, absl::string_view layers_field,
                        int64_t num_layers, std::vector<Layer>& layers) {
  absl::Status status = ExpectLastLayer(checkpoint, absl::StrCat(prefix, num_layers - 1, suffix),
                                        layers_field, num_layers);
  if (status.ok()) layers.resize(static_cast<size_t>(num_layers));
  return status;
}

// Non-finite elements (NaN, +-Inf) of an F32, F16 or BF16 view; reads each byte once.
int64_t CountNonFinite(const TensorView& view);

// Sizes the plan, allocates weights->arena and executes every job, scanning each source tensor for
// non-finite values just before packing it (the pass that touches its bytes anyway).
absl::Status ExecuteWeightPlan(WeightPlan& plan, WeightArena& arena);

// An architecture's planner (PlanGpt2Weights, PlanLlamaWeights, PlanMarianWeights bound to their
// config and weights): the jobs of every tensor it needs, each name read recorded in `used`.
using WeightPlanner = absl::FunctionRef<absl::StatusOr<WeightPlan>(const Checkpoint& checkpoint,
                                                                   std::vector<std::string>& used)>;

// The whole weight load of a model: opens the checkpoint of `model_dir`, plans it, warns about
// tensors no job read, packs every job into `arena` while dropping the checkpoint's pages behind it
// (the plan's views must all point into the checkpoint's mappings), warns about NaN/Inf weights by
// tensor name, and closes the checkpoint: afterwards only the arena is resident.
// `quantization` selects the linears packed as quantized weights.
absl::Status LoadWeights(const std::string& model_dir, WeightPlanner planner,
                         const WeightQuantization& quantization, WeightArena& arena);

// The oneDNN post-op of a config's MLP activation.
onednn::LinearActivation ToLinearActivation(Activation activation);

// Logs, as one warning, the checkpoint tensors that no job read (buffers ember recomputes, like
// GPT-2's causal mask or Marian's position tables, are not reported).
void WarnAboutUnusedTensors(const Checkpoint& checkpoint, const std::vector<std::string>& used);

// Names each checkpoint tensor ExecuteWeightPlan found holding NaN or +-Inf (see
// WeightPlan::non_finite for why they load anyway).
void WarnAboutNonFiniteWeights(const Checkpoint& checkpoint,
                               const std::vector<NonFiniteSource>& found);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_WEIGHT_PLAN_H_
