// A profiling copy of DecoderModel::Forward (core/model/decoder_model.cc, as of this writing): the
// same kernels called in the same order on weights loaded the same way, with a timer around each
// kernel call. It exists so the engine benchmark can say where a step's time goes without touching
// core/. Keep it in step with decoder_model.cc; the engine bench's figures come from the real
// DecoderModel, never from this copy.
#ifndef EMBER_BENCH_ENGINE_BENCH_FORWARD_H_
#define EMBER_BENCH_ENGINE_BENCH_FORWARD_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/kernels/rope.h"
#include "core/model/decoder_model.h"
#include "core/model/decoder_weights.h"
#include "core/model/kv_cache.h"
#include "core/model/model_config.h"
#include "core/tensor/aligned_buffer.h"

namespace ember::bench {

// The kernels of one step, in forward order.
enum class ForwardOp : int {
  kSetup,       // validation, row bookkeeping, attention sequence list, scratch growth
  kEmbed,       // token (+ position) embedding gather
  kNorm,        // attention and MLP norms (+ final norm)
  kQkv,         // fused q|k|v matmul
  kRope,        // rotary embedding of q and k
  kStoreKv,     // new keys/values into the paged cache
  kAttention,   // paged attention
  kAttnOut,     // output projection (accumulated into the residual)
  kMlpIn,       // gate|up (Llama) or c_fc (GPT-2) matmul
  kActivation,  // SiluMul (Llama) or f32->bf16 of the activations (GPT-2, bf16)
  kMlpOut,      // down projection (accumulated into the residual)
  kLmHead,      // gather of logits rows and the LM head matmul
  kCount,
};
const char* ForwardOpName(ForwardOp op);

struct ForwardProfile {
  std::array<double, static_cast<size_t>(ForwardOp::kCount)> seconds{};
  std::array<int64_t, static_cast<size_t>(ForwardOp::kCount)> calls{};
  double total_seconds = 0;  // wall time of whole Forward calls
  int64_t steps = 0;
  void Add(const ForwardProfile& other);
};

// Per op, the smallest per-step time over single-step profiles (and the smallest step total): on a
// shared machine the minimum filters out preemption, as the best pass of a limit probe does.
ForwardProfile MinPerStep(const std::vector<ForwardProfile>& steps);
// The sum of single-step profiles.
ForwardProfile SumOf(const std::vector<ForwardProfile>& steps);

class ProfiledDecoder {
 public:
  // Loads exactly as DecoderModel::Load does (same plans, same arena, same packing).
  static absl::StatusOr<std::unique_ptr<ProfiledDecoder>> Load(const std::string& model_dir,
                                                               DType compute);

  // DecoderModel::Forward with timers; adds this step's times to `profile`.
  absl::Status Forward(absl::Span<const SequenceStep> steps, KvCache& cache, float* logits,
                       ForwardProfile& profile);

  const ModelConfig& config() const { return config_; }
  DType compute() const { return weights_.compute; }
  const DecoderWeights& weights() const { return weights_; }

 private:
  ProfiledDecoder(ModelConfig config, DecoderWeights weights);
  void Reserve(int64_t rows);
  void Embed(absl::Span<const SequenceStep> steps);

  const ModelConfig config_;
  DecoderWeights weights_;
  std::unique_ptr<RopeTable> rope_;
  int64_t reserved_rows_ = 0;
  std::vector<int32_t> tokens_, positions_;
  AlignedBuffer residual_, normed_, qkv_, attention_, mlp_, activated_;
};

}  // namespace ember::bench

#endif  // EMBER_BENCH_ENGINE_BENCH_FORWARD_H_
