// What the engine runs: a Transformer that takes one forward step over a batch mixing prefilling
// and decoding sequences, on the paged KV cache. Two families implement it, on a common base
// (ModelBase, model_base.h): decoder-only models (DecoderModel: GPT-2, the Llama family) and
// encoder-decoder models (MarianModel), whose steps also carry the source sentence and the blocks
// holding its cross-attention keys and values. The comments here hold for both; each subclass
// says only what it adds.
#ifndef EMBER_CORE_MODEL_MODEL_H_
#define EMBER_CORE_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/quant/quant_format.h"
#include "core/model/forward_profile.h"
#include "core/model/kv_cache.h"
#include "core/model/model_config.h"
#include "core/tensor/dtype.h"

namespace ember {

struct ModelOptions {
  // Weight / matmul type: F32 or BF16. nullopt: BF16 when the CPU multiplies bf16 natively,
  // else F32.
  std::optional<DType> compute;
  // Quantized weights: every projection is quantized at load from the checkpoint's values to this
  // scheme (core/kernels/quant/quant_format.h) and multiplied by ember's int8 kernels, with
  // activations of the compute type quantized at run time. nullopt: weights in the compute type.
  // Embeddings and norms stay as they are.
  std::optional<quant::QuantScheme> quantize;
  // With `quantize`: the LM head as well (it is read once per token, like the projections).
  bool quantize_lm_head = true;
  // Longest context to prepare position tables for; 0 means the config's max_context.
  int64_t max_context = 0;
};

// Receives the logits of every position of a step that asks for them (prompt scoring), one row at a
// time as the LM head produces them, a few rows at once: the row is gone after the call, so a
// whole prompt never holds a full-vocabulary row per token.
class LogitRowSink {
 public:
  virtual ~LogitRowSink() = default;
  // `logits`: config().vocab_size f32 logits at `position` (they predict the token at position +
  // 1).
  virtual void Consume(int64_t position, absl::Span<const float> logits) = 0;
};

// One sequence's part of a forward step.
struct SequenceStep {
  absl::Span<const int32_t> tokens;       // the new tokens (a prompt chunk, or the last sample)
  int64_t past = 0;                       // tokens of this sequence already in the KV cache
  absl::Span<const int32_t> block_table;  // covers past + tokens.size() positions
  bool want_logits = false;               // produce logits for the last of `tokens`
  // Encoder-decoder models only (ignored by decoder-only ones). `source`: the encoder's input
  // tokens. `cross_block_table`: blocks of the same cache, covering source.size() positions, that
  // hold every decoder layer's cross-attention keys and values of the encoded source. A step with
  // past == 0 encodes the source and writes them first; later steps only read them.
  absl::Span<const int32_t> source = {};
  absl::Span<const int32_t> cross_block_table = {};
  // When set, every one of `tokens`' positions' logits go to it, in order (decoder-only models;
  // encoder-decoder ones refuse it). Independent of want_logits.
  LogitRowSink* row_sink = nullptr;
};

class Model {
 public:
  virtual ~Model() = default;

  // Runs one step. New keys/values are written to `cache` at each sequence's positions; for every
  // step with want_logits, in order, one row of config().vocab_size f32 logits is written to
  // `logits`. Token ids must be inside the vocabulary (the engine validates requests): one outside
  // is INTERNAL, never read. INVALID_ARGUMENT for positions past max_context(). Not thread-safe:
  // the engine loop is its only caller. `profile`, when given, receives each kernel call's time
  // (forward_profile.h); the engine passes none.
  virtual absl::Status Forward(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                               ForwardProfile* profile = nullptr) = 0;

  // Creates every matmul primitive that steps of up to `max_rows` tokens, with up to
  // `max_logit_rows` rows wanting logits, will use, and the scratch for them, so Forward never
  // creates one (each is a JIT compile of a few milliseconds). Forward pads its activations to the
  // row classes of onednn::Linear::RowClass. The engine calls this once, before serving;
  // INVALID_ARGUMENT unless 0 < max_logit_rows <= max_rows.
  virtual absl::Status PrepareShapes(int64_t max_rows, int64_t max_logit_rows) = 0;
  // Matmul primitives created so far, over every projection (tests: none appear after Prepare).
  virtual int64_t primitives_created() const = 0;

  virtual const ModelConfig& config() const = 0;
  virtual DType compute() const = 0;
  // The projections' weight format, as ModelInfo.dtype shows it: "BF16", "F32", or the scheme
  // (WeightFormatName).
  virtual const std::string& weight_format() const = 0;
  // The longest decoder sequence (prompt + generated) a step may reach.
  virtual int64_t max_context() const = 0;
  virtual size_t weight_bytes() const = 0;
  // Encoder-decoder models: the longest source the encoder takes; 0 for decoder-only models.
  virtual int64_t max_source_tokens() const { return 0; }
};

// Loads the model of `model_dir` by its config.json model_type: DecoderModel for gpt2, llama,
// mistral and qwen2; MarianModel for marian.
absl::StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& model_dir,
                                                 const ModelOptions& options);

// The compute type `options` asks for, resolved against the CPU; INVALID_ARGUMENT unless F32/BF16.
// With `quantize`, also INVALID_ARGUMENT for a scheme ValidateScheme refuses.
absl::StatusOr<DType> ResolveComputeType(const ModelOptions& options);

// "BF16" / "F32" (the compute type) for unquantized weights; else the scheme's name, e.g.
// "int4 g64 (bf16 scales)", with ", lm_head BF16" when the LM head stays in the compute type.
std::string WeightFormatName(const ModelOptions& options, DType compute);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_MODEL_H_
