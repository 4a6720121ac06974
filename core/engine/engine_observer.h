// How the engine reports what it does, as plain numbers. server/ turns these into Prometheus
// metrics; core/ knows nothing of Prometheus. Methods are called on the engine loop thread, except
// OnRequestRejected (the submitting thread), and must return quickly.
#ifndef EMBER_CORE_ENGINE_ENGINE_OBSERVER_H_
#define EMBER_CORE_ENGINE_ENGINE_OBSERVER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "core/engine/request.h"

namespace ember {

struct StepStats {
  int64_t sequences = 0;       // sequences in the step
  int64_t prefill_tokens = 0;  // prompt tokens processed
  int64_t decode_tokens = 0;   // tokens generated
  int64_t running = 0;         // running sequences after the step
  int64_t waiting = 0;         // waiting requests after the step
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_total = 0;
  int64_t preemptions = 0;  // sequences preempted while planning this step
  // Prefix caching: prompt tokens of the sequences admitted in this step, and how many of them
  // the cache held; blocks cached now (held or evictable); cached blocks reused for new contents
  // since the engine started (a running total).
  int64_t prefix_cache_queried_tokens = 0;
  int64_t prefix_cache_hit_tokens = 0;
  int64_t prefix_cache_blocks = 0;
  int64_t prefix_cache_evictions = 0;
  absl::Duration duration;  // wall time of the forward pass and sampling
};

class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void OnStep(const StepStats& stats) = 0;
  // The queue and cache state, after every loop iteration that ran a step or changed them
  // (including iterations that only finished or cancelled requests).
  virtual void OnQueueState(int64_t running, int64_t waiting, int64_t kv_blocks_used,
                            int64_t kv_blocks_total) = 0;
  // A token was generated for a request; `since_previous` is the time since its previous token
  // (or since submission for the first, which is then also its time to first token).
  virtual void OnToken(bool first, absl::Duration since_previous) = 0;
  virtual void OnRequestFinished(FinishReason reason, const RequestTimings& timings) = 0;
  // Submit refused a request because the waiting queue was full (its finish reason is kRejected;
  // it never reaches OnRequestFinished). Called on the submitting thread.
  virtual void OnRequestRejected() = 0;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_ENGINE_OBSERVER_H_
