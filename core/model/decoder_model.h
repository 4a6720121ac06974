// A decoder-only Transformer (GPT-2, Llama, Mistral, Qwen2) loaded from a Hugging Face model
// directory. The Model interface (model.h) says what Forward and PrepareShapes do; this is how a
// pre-LN decoder block stack does it: norm, fused q|k|v, RoPE (Llama family), paged attention,
// output projection, norm, MLP, then the final norm and the LM head over the rows wanting logits.
#ifndef EMBER_CORE_MODEL_DECODER_MODEL_H_
#define EMBER_CORE_MODEL_DECODER_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/rope.h"
#include "core/model/decoder_weights.h"
#include "core/model/model_base.h"

namespace ember {

using DecoderModelOptions = ModelOptions;

class DecoderModel : public ModelBase {
 public:
  // Reads config.json and the safetensors checkpoint in `model_dir`, validates every tensor the
  // config requires (name and shape), and packs the weights. Errors name the file and tensor;
  // RESOURCE_EXHAUSTED, before anything is read, when the rotary table of the context served
  // alone would exceed physical memory.
  static absl::StatusOr<std::unique_ptr<DecoderModel>> Load(const std::string& model_dir,
                                                            const DecoderModelOptions& options);

  absl::Status Forward(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                       ForwardProfile* profile = nullptr) override;
  size_t weight_bytes() const override { return weights_.arena.used(); }
  absl::Status PrepareShapes(int64_t max_rows, int64_t max_logit_rows) override;
  int64_t primitives_created() const override;

 private:
  DecoderModel(const ModelConfig& config, DecoderWeights weights, int64_t max_context,
               std::string weight_format);

  // Checks every step (ModelBase's checks, and a block table covering its positions); returns the
  // rows of the step.
  absl::StatusOr<int64_t> Validate(absl::Span<const SequenceStep> steps,
                                   const KvCache& cache) const;
  // x = token embedding (+ learned position embedding, GPT-2) of the laid-out rows.
  void Embed(int64_t rows);
  // Every layer's projections (all but the LM head), each run on the rows of a whole step.
  std::vector<Projection> LayerProjections() const;

  DecoderWeights weights_;
  std::unique_ptr<RopeTable> rope_;  // nullptr for GPT-2
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_DECODER_MODEL_H_
