// The generation engine: owns the model, the tokenizer, the KV cache and one loop thread that runs
// continuous batching. Callers Submit requests from any thread and receive events through their
// callback; all sequences and the KV cache belong to the loop thread alone.
#ifndef EMBER_CORE_ENGINE_ENGINE_H_
#define EMBER_CORE_ENGINE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/engine/engine_observer.h"
#include "core/engine/engine_options.h"
#include "core/engine/random.h"
#include "core/engine/request.h"
#include "core/engine/request_validation.h"
#include "core/tokenizer/tokenizer.h"

namespace ember {

// The engine's loop-thread machinery stays out of this header: callers (the server) see the
// requests, events and snapshots, never the model, the KV cache or the scheduler.
class BlockAllocator;
class KvCache;
class Model;
class Scheduler;
struct BeamSearchOptions;
struct Sequence;
struct SequenceStep;
struct StepItem;

// What the served model is, for model-info APIs and logs.
struct ModelInfo {
  std::string name;          // the model directory's base name
  std::string architecture;  // "gpt2", "llama", "marian" (ArchitectureName)
  std::string model_type;    // config.json model_type
  std::string dtype;         // weight format: "F32", "BF16", or e.g. "int4 g64 (bf16 scales)"
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

  // Validates and queues a request; never blocks on the loop. INVALID_ARGUMENT `field: problem`
  // (the API's field path) for a bad request: first every rule on its content
  // (ValidateGenerationRequest, request_validation.h, against this model's vocabulary and the
  // options' limits), then what needs the engine (the prompt's tokens against the context, the
  // KV-cache capacity); DEADLINE_EXCEEDED when its deadline has passed; RESOURCE_EXHAUSTED when
  // the waiting queue is full; UNAVAILABLE after Shutdown.
  absl::StatusOr<RequestHandle> Submit(GenerationRequest request, EventCallback callback);

  // Ends a request at the next step with `reason` (kCancelled, or kDeadline when the caller knows
  // the request's deadline passed, e.g. gRPC cancelled the call for it). Unknown or finished ids
  // are ignored.
  void Cancel(RequestHandle id, FinishReason reason = FinishReason::kCancelled);

  // Ends every request in flight (waiting or running) at the next step with kCancelled and
  // `why` as its event's error, so each still gets its final event (usage, timings). The server's
  // drain calls it when the grace has passed.
  void CancelAll(absl::Status why);

  // Stops admitting (Submit gives UNAVAILABLE); running and waiting requests continue.
  void StopAccepting();

  EngineSnapshot Snapshot() const;
  const ModelInfo& model_info() const { return info_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

  // Test-only: make every engine step take at least this long (a stalled engine for watchdog and
  // deadline tests). Zero restores normal operation. Unused, it costs one relaxed atomic load per
  // step.
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
  // A token (or, for a beam group, a search step) was produced at `now`: the first-token and
  // inter-token bookkeeping and the observer's OnToken.
  void RecordTokenTime(Sequence& seq, absl::Time now);
  bool IsEos(int32_t token) const;
  // How a request that produced eos after `generated` tokens ends: kEos, or kLength when the model
  // forced that eos as the last token the length allows.
  FinishReason EosFinishReason(const Sequence& seq, int64_t generated) const;
  // Submit's checks: ValidateGenerationRequest, then tokenizing a text prompt into
  // request.prompt_tokens and the checks that need the model and the KV cache.
  absl::Status ValidateAndTokenize(GenerationRequest& request) const;
  // Beam requests (engine_beams.cc): the search options of a validated request (INTERNAL if they
  // are inconsistent, which validation rules out).
  absl::StatusOr<BeamSearchOptions> BeamOptionsFor(const GenerationRequest& request,
                                                   int32_t max_new_tokens) const;
  // Sets up seq.beam and its scheduler entry (all its blocks are taken at admission).
  void StartBeamGroup(Sequence& seq, BeamSearchOptions options);
  // The forward steps of one scheduled item of a beam request: one row per live beam, each beam
  // given blocks of its own for the positions it writes. INTERNAL only if the group's blocks run
  // out, which BeamGroupBlocks rules out.
  absl::Status AppendBeamSteps(Sequence& seq, const StepItem& item,
                               std::vector<SequenceStep>& steps);
  // After the group's search advanced (BeamSearch::Step returned `parents`): hands continued
  // beams' blocks to their successors, or finishes the request when the search is done.
  void HandleBeamStep(Sequence& seq, const StepItem& item, const std::vector<int32_t>& parents,
                      absl::Time now);
  // The logits processors of encoder-decoder models (bad words, forced eos) on one row before
  // sampling.
  void ApplyModelLogitsProcessors(const Sequence& seq, float* logits) const;
  // request.max_new_tokens, or what 0 stands for: the default, or none for a scoring request.
  int32_t MaxNewTokens(const GenerationRequest& request) const;
  int64_t BlocksFor(int64_t positions) const;

  const EngineOptions options_;
  const Clock* clock_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<KvCache> cache_;
  const std::vector<int32_t> eos_ids_;
  ModelInfo info_;
  RequestLimits limits_;  // from info_ and options_

  // Loop-thread state.
  std::unique_ptr<BlockAllocator> allocator_;
  std::unique_ptr<Scheduler> scheduler_;
  absl::flat_hash_map<RequestHandle, std::unique_ptr<Sequence>> sequences_;
  std::vector<float> logits_;
  int64_t steps_ = 0;

  // Shared with submitting threads.
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Sequence>> inbox_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<RequestHandle, FinishReason>> cancels_ ABSL_GUARDED_BY(mu_);
  // Set by CancelAll: every request in flight ends with kCancelled and this error.
  std::optional<absl::Status> cancel_all_ ABSL_GUARDED_BY(mu_);
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;   // submitted, not yet finished
  int64_t unadmitted_ ABSL_GUARDED_BY(mu_) = 0;  // submitted, never scheduled yet
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  RequestHandle next_id_ ABSL_GUARDED_BY(mu_) = 1;
  Random seed_source_ ABSL_GUARDED_BY(mu_);
  EngineSnapshot snapshot_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> step_delay_ns_{0};  // SetStepDelayForTesting

  std::thread thread_;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_ENGINE_H_
