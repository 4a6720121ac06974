// The generation engine: owns the model, the tokenizer, the KV cache and one loop thread that runs
// continuous batching. Callers Submit requests from any thread and receive events through their
// callback; all sequences and the KV cache belong to the loop thread alone.
#ifndef EMBER_CORE_ENGINE_ENGINE_H_
#define EMBER_CORE_ENGINE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/engine/block_allocator.h"
#include "core/engine/engine_observer.h"
#include "core/engine/engine_options.h"
#include "core/engine/random.h"
#include "core/engine/request.h"
#include "core/engine/scheduler.h"
#include "core/engine/sequence.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace ember {

// What the served model is, for model-info APIs and logs.
struct ModelInfo {
  std::string name;          // the model directory's base name
  std::string architecture;  // "gpt2", "llama"
  std::string model_type;    // config.json model_type
  std::string dtype;         // compute type, "F32" / "BF16"
  int64_t context_length = 0;
  int64_t vocab_size = 0;
  size_t weight_bytes = 0;
  size_t kv_cache_bytes = 0;
  int64_t kv_blocks = 0;
  int64_t block_size = 0;
  std::vector<int32_t> eos_token_ids;  // ids that end generation
  // An encoder-decoder (translation) model: the prompt is the source text, and the output its
  // translation; beam search is available.
  bool encoder_decoder = false;
};

// A consistent snapshot of the engine's counters (readable from any thread).
struct EngineSnapshot {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_total = 0;
  int64_t steps = 0;
  absl::Time last_progress;  // when the loop last finished a step or went idle
  bool busy = false;         // work is pending
};

class Engine {
 public:
  // Loads the model and tokenizer, sizes the KV cache, warms up the kernels and starts the loop.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineOptions& options);

  // Stops the loop; requests still in flight end with kCancelled.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates and queues a request; never blocks on the loop. INVALID_ARGUMENT naming the field
  // for a bad request (empty prompt, prompt longer than the context, max_new_tokens out of range,
  // bad sampling parameters, token ids outside the vocabulary); RESOURCE_EXHAUSTED when the
  // waiting queue is full; UNAVAILABLE after Shutdown.
  absl::StatusOr<RequestId> Submit(GenerationRequest request, EventCallback callback);

  // Ends a request at the next step with `reason` (kCancelled, or kDeadline when the caller knows
  // the request's deadline passed, e.g. gRPC cancelled the call for it). Unknown or finished ids
  // are ignored.
  void Cancel(RequestId id, FinishReason reason = FinishReason::kCancelled);

  // Stops admitting (Submit gives UNAVAILABLE); running and waiting requests continue.
  void StopAccepting();

  EngineSnapshot Snapshot() const;
  const ModelInfo& model_info() const { return info_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

  // Test-only: make every engine step take at least this long (a stalled engine for watchdog and
  // deadline tests). Zero restores normal operation.
  void SetStepDelayForTesting(absl::Duration delay);

 private:
  Engine(const EngineOptions& options, std::unique_ptr<Model> model,
         std::unique_ptr<Tokenizer> tokenizer, std::unique_ptr<KvCache> cache,
         std::vector<int32_t> eos_ids);

  void Loop();
  // One scheduling + forward + sampling iteration; false when there was nothing to do.
  bool Step();
  void TakeInbox();
  void ExpireDeadlines(absl::Time now);
  // Ends a request: frees its blocks, sends its final event (merged into `last`, the event of its
  // last token, when given) and destroys it.
  void Finish(Sequence& seq, FinishReason reason, absl::Status error = absl::OkStatus(),
              GenerationEvent* last = nullptr);
  void HandleSampledToken(Sequence& seq, const SampledToken& sampled, absl::Time now);
  absl::Status ValidateAndTokenize(GenerationRequest& request) const;
  // Beam requests (engine_beams.cc): the search options of a validated request; INVALID_ARGUMENT
  // for settings beam search cannot honour.
  absl::StatusOr<BeamSearchOptions> BeamOptionsFor(const GenerationRequest& request,
                                                   int32_t max_new_tokens) const;
  // Sets up seq.beam and its scheduler entry (all blocks reserved at admission).
  void StartBeamGroup(Sequence& seq, BeamSearchOptions options);
  // The forward steps of one scheduled item of a beam request: one row per live beam.
  void AppendBeamSteps(Sequence& seq, const StepItem& item, std::vector<SequenceStep>& steps);
  // Advances the search with its live beams' logits ([num_live, vocab]), copies continued beams'
  // keys/values, and finishes the request when the search is done.
  void HandleBeamLogits(Sequence& seq, const StepItem& item, float* logits, absl::Time now);
  // The logits processors of encoder-decoder models (bad words, forced eos) on one row before
  // sampling.
  void ApplyModelLogitsProcessors(const Sequence& seq, float* logits) const;
  int64_t BlocksFor(int64_t positions) const {
    return (positions + options_.block_size - 1) / options_.block_size;
  }

  const EngineOptions options_;
  const Clock* clock_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<KvCache> cache_;
  const std::vector<int32_t> eos_ids_;
  ModelInfo info_;

  // Loop-thread state.
  BlockAllocator allocator_;
  Scheduler scheduler_;
  absl::flat_hash_map<RequestId, std::unique_ptr<Sequence>> sequences_;
  std::vector<float> logits_;
  int64_t steps_ = 0;

  // Shared with submitting threads.
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Sequence>> inbox_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<RequestId, FinishReason>> cancels_ ABSL_GUARDED_BY(mu_);
  int64_t queued_ ABSL_GUARDED_BY(mu_) = 0;      // submitted, not yet finished
  int64_t unadmitted_ ABSL_GUARDED_BY(mu_) = 0;  // submitted, never scheduled yet
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  RequestId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  Random seed_source_ ABSL_GUARDED_BY(mu_);
  EngineSnapshot snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Duration step_delay_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_ENGINE_H_
