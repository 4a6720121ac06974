// Where a forward step's time goes: Model::Forward (DecoderModel and MarianModel alike) times each
// kernel call into a ForwardProfile when the caller passes one (the engine passes none: no clock
// reads then). Used by bench/ember_engine_bench_profile to set each op beside oneDNN alone on the
// same shapes.
#ifndef EMBER_CORE_MODEL_FORWARD_PROFILE_H_
#define EMBER_CORE_MODEL_FORWARD_PROFILE_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ember {

// The kernels of one step, in forward order. MarianModel times its encoder and its decoder into
// the same ops; where it differs, the comment says so.
enum class ForwardOp : int {
  kSetup,       // validation, row bookkeeping, attention sequence lists, scratch growth (Marian:
                // also the encoder's key/value pool)
  kEmbed,       // token (+ position) embedding gather
  kNorm,        // attention and MLP norms (+ final norm); Marian: each sub-layer's pre- or post-LN
                // and, post-LN in bf16, the f32->bf16 of a sub-layer's input
  kQkv,         // fused q|k|v matmul; Marian: also the cross-attention q, and the encoder output's
                // cross k|v for every decoder layer
  kRope,        // rotary embedding of q and k
  kStoreKv,     // new keys/values into the paged cache
  kAttention,   // paged attention (Marian: self- and cross-attention)
  kAttnOut,     // output projection (accumulated into the residual)
  kMlpIn,       // gate|up (Llama), c_fc (GPT-2) or fc1 (Marian) matmul
  kActivation,  // SiluMul (Llama) or f32->bf16 of the activations (GPT-2 and Marian, bf16)
  kMlpOut,      // down projection or fc2 (accumulated into the residual)
  kLmHead,      // gather of logits rows, final norm, the LM head matmul (+ Marian's logits bias)
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

// Adds the time until destruction to `op` of `profile`; does nothing when `profile` is null.
class ScopedOpTimer {
 public:
  ScopedOpTimer(ForwardProfile* profile, ForwardOp op) : profile_(profile), op_(op) {
    if (profile_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedOpTimer() { Stop(); }
  // Records the time so far now instead of at destruction (once).
  void Stop() {
    if (profile_ == nullptr) return;
    const size_t i = static_cast<size_t>(op_);
    profile_->seconds[i] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    ++profile_->calls[i];
    profile_ = nullptr;
  }
  ScopedOpTimer(const ScopedOpTimer&) = delete;
  ScopedOpTimer& operator=(const ScopedOpTimer&) = delete;

 private:
  ForwardProfile* profile_;
  ForwardOp op_;
  std::chrono::steady_clock::time_point start_;
};

// Adds the time until destruction to `profile`'s total and counts one step: what Model::Forward
// wraps its whole call in. Does nothing when `profile` is null.
class ScopedStepTimer {
 public:
  explicit ScopedStepTimer(ForwardProfile* profile) : profile_(profile) {
    if (profile_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedStepTimer() {
    if (profile_ == nullptr) return;
    profile_->total_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    ++profile_->steps;
  }
  ScopedStepTimer(const ScopedStepTimer&) = delete;
  ScopedStepTimer& operator=(const ScopedStepTimer&) = delete;

 private:
  ForwardProfile* profile_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_FORWARD_PROFILE_H_
