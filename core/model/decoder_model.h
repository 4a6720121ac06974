// A decoder-only Transformer (GPT-2, Llama, Mistral, Qwen2) loaded from a Hugging Face model
// directory, with a forward pass over a batch that mixes prefilling and decoding sequences.
#ifndef EMBER_CORE_MODEL_DECODER_MODEL_H_
#define EMBER_CORE_MODEL_DECODER_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/rope.h"
#include "core/model/decoder_weights.h"
#include "core/model/forward_profile.h"
#include "core/model/kv_cache.h"
#include "core/model/model.h"
#include "core/model/model_config.h"
#include "core/tensor/aligned_buffer.h"

namespace ember {

using DecoderModelOptions = ModelOptions;

class DecoderModel : public Model {
 public:
  // Reads config.json and the safetensors checkpoint in `model_dir`, validates every tensor the
  // config requires (name and shape), and packs the weights. Errors name the file and tensor.
  static absl::StatusOr<std::unique_ptr<DecoderModel>> Load(const std::string& model_dir,
                                                            const DecoderModelOptions& options);

  // Runs one step. New keys/values are written to `cache` at each sequence's positions; for every
  // step with want_logits, in order, one row of config().vocab_size f32 logits is written to
  // `logits`. INVALID_ARGUMENT for a token id outside the vocabulary or positions past
  // max_context(). Not thread-safe: the engine loop is its only caller.
  // `profile`, when given, receives each kernel call's time (forward_profile.h); the engine passes
  // none.
  absl::Status Forward(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                       ForwardProfile* profile = nullptr) override;

  // Creates every matmul primitive that steps of up to `max_rows` tokens, with up to
  // `max_logit_rows` rows wanting logits, will use, and the scratch for them, so Forward never
  // creates one (each is a JIT compile of a few milliseconds). Forward pads its activations to
  // the row classes of onednn::Linear::RowClass. The engine calls this once, before serving.
  absl::Status PrepareShapes(int64_t max_rows, int64_t max_logit_rows) override;
  // Matmul primitives created so far, over every projection (tests: none appear after Prepare).
  int64_t primitives_created() const override;

  const ModelConfig& config() const override { return config_; }
  DType compute() const override { return weights_.compute; }
  int64_t max_context() const override { return max_context_; }
  size_t weight_bytes() const override { return weights_.arena.used(); }

 private:
  DecoderModel(ModelConfig config, DecoderWeights weights, int64_t max_context);

  // Grows the scratch buffers to hold `rows` rows; new buffers are zeroed, so the padding rows a
  // row class adds only ever hold finite values.
  void Reserve(int64_t rows);
  void Embed(absl::Span<const SequenceStep> steps);
  // Forward without the whole-step timing.
  absl::Status ForwardSteps(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                            ForwardProfile* profile);

  const ModelConfig config_;
  DecoderWeights weights_;
  const int64_t max_context_;
  std::unique_ptr<RopeTable> rope_;  // nullptr for GPT-2

  // Run scratch, sized to the largest step seen. Shapes in rows of the step:
  int64_t reserved_rows_ = 0;
  std::vector<int32_t> tokens_;     // [rows]
  std::vector<int32_t> positions_;  // [rows]
  AlignedBuffer residual_;          // [rows, hidden] f32
  AlignedBuffer normed_;            // [rows, hidden] compute
  AlignedBuffer qkv_;               // [rows, (heads + 2 kv_heads) * head_dim] f32
  AlignedBuffer attention_;         // [rows, heads * head_dim] compute
  AlignedBuffer mlp_;               // [rows, intermediate or 2 * intermediate] f32
  AlignedBuffer activated_;         // [rows, intermediate] compute
  AlignedBuffer lm_scratch_;        // [RowClass(logit rows), vocab] f32, when padded
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_DECODER_MODEL_H_
