// The Transformer as first described, in its MarianMT form (docs/MARIAN.md): an encoder over the
// source sentence (bidirectional self-attention), a decoder with causal self-attention over the
// paged KV cache and cross-attention to the encoded source, sinusoidal positions, post-LN blocks
// (pre-LN when the config says normalize_before), an LM head plus final_logits_bias.
//
// Cross-attention keys and values are computed once per request, when its first step (past == 0)
// encodes the source, and live in KV-cache blocks of their own (SequenceStep::cross_block_table):
// the engine allocates, accounts and frees them with the sequence's other blocks.
#ifndef EMBER_CORE_MODEL_MARIAN_MODEL_H_
#define EMBER_CORE_MODEL_MARIAN_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/paged_attention.h"
#include "core/model/marian_weights.h"
#include "core/model/model_base.h"
#include "core/tensor/aligned_buffer.h"

namespace ember {

class MarianModel : public ModelBase {
 public:
  // Reads config.json (model_type marian) and the safetensors checkpoint of `model_dir` and packs
  // the weights. Errors name the file and the tensor or field.
  static absl::StatusOr<std::unique_ptr<MarianModel>> Load(const std::string& model_dir,
                                                           const ModelOptions& options);

  // Every step also needs a non-empty `source` of at most max_source_tokens() ids and a
  // cross_block_table covering it; steps with past == 0 encode their source first (all of them in
  // one encoder batch). INVALID_ARGUMENT names the step and what is wrong.
  absl::Status Forward(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                       ForwardProfile* profile = nullptr) override;
  int64_t max_source_tokens() const override { return max_context_; }
  // Prepares the decoder's projections for steps of up to `max_rows` tokens and the encoder's
  // (and the cross key/value projection's) for up to max(max_rows, max_source_tokens()) rows.
  absl::Status PrepareShapes(int64_t max_rows, int64_t max_logit_rows) override;
  int64_t primitives_created() const override;
  size_t weight_bytes() const override { return weights_.arena.used(); }

 private:
  MarianModel(const ModelConfig& config, MarianWeights weights, int64_t max_context,
              std::string weight_format);

  // The projections run on the encoder batch's rows (every encoder layer's, and each decoder
  // layer's cross k|v over the encoder output), and those run on a decoder step's rows.
  std::vector<Projection> EncoderProjections() const;
  std::vector<Projection> DecoderProjections() const;
  absl::Status Validate(absl::Span<const SequenceStep> steps, const KvCache& cache) const;
  // x[i] = embedding[tokens[i]] * embed_scale + sinusoid[positions[i]] for the first `rows` rows
  // laid out in scratch(), and zeroes rows [rows, padded) so the row-class padding never
  // accumulates across layers.
  void Embed(const void* table, int64_t rows, int64_t padded);
  // A sub-layer's input in the compute type: LN(x) for pre-LN blocks, x itself for post-LN.
  // Timed as ForwardOp::kNorm, like SublayerOutput.
  const void* SublayerInput(const NormWeights& norm, int64_t rows, ForwardProfile* profile);
  // After the sub-layer added its output into x: x = LN(x) for post-LN blocks.
  void SublayerOutput(const NormWeights& norm, int64_t rows, ForwardProfile* profile);
  // An attention sub-layer over `kv`. `project` gives q|k|v (self-attention: the new keys and
  // values are stored first) or q alone (cross-attention: Encode stored them); `out` is added into
  // x.
  absl::Status Attend(LinearLayer& project, LinearLayer& out, const NormWeights& norm,
                      absl::Span<const AttentionSequence> sequences, const KvLayerView& kv,
                      int64_t rows, int64_t padded, ForwardProfile* profile);
  // The feed-forward sub-layer (fc1 with the activation fused, fc2 accumulated into x).
  absl::Status FeedForward(LinearLayer& fc1, LinearLayer& fc2, const NormWeights& norm,
                           int64_t rows, int64_t padded, int64_t ffn_dim, ForwardProfile* profile);
  // Runs the encoder over the sources of the steps with past == 0 and writes each decoder
  // layer's cross-attention keys and values into their cross blocks.
  absl::Status Encode(absl::Span<const SequenceStep> steps, KvCache& cache,
                      ForwardProfile* profile);
  absl::Status Decode(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                      ForwardProfile* profile);

  const EncoderDecoderConfig& seq2seq_;  // *config_.encoder_decoder
  MarianWeights weights_;
  const float embed_scale_;
  std::vector<float> sinusoids_;  // [max_context, hidden] f32
  // The encoder's self-attention K and V pools, [2, blocks, encoder heads, block_size, head_dim]
  // compute: see Encode.
  AlignedBuffer encoder_kv_;
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_MARIAN_MODEL_H_
