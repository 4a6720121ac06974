// One request's run state inside the engine loop. Owned and touched only by the loop thread.
//
// State machine (transitions written once, in Engine):
//   kWaiting -> kPrefill (admitted) -> kDecode (first token sampled) -> kFinished
//   any state -> kFinished with a finish reason (eos, stop, length, cancelled, deadline, error);
//   kPrefill/kDecode -> kWaiting on preemption (blocks freed, recomputed later).
#ifndef EMBER_CORE_ENGINE_SEQUENCE_H_
#define EMBER_CORE_ENGINE_SEQUENCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/engine/beam_blocks.h"
#include "core/engine/beam_search.h"
#include "core/engine/prompt_scorer.h"
#include "core/engine/request.h"
#include "core/engine/sampler.h"
#include "core/engine/scheduler.h"
#include "core/engine/stop_matcher.h"
#include "core/tokenizer/incremental_decoder.h"

namespace ember {

enum class SequenceState { kWaiting, kPrefill, kDecode, kFinished };

// A beam-search request's beams. The entry's block_table is the group's pool of blocks, all taken
// at admission; `blocks` (made at the first step, once the pool exists) lays one table per live
// beam over it and shares blocks between beams copy-on-write.
struct BeamGroup {
  explicit BeamGroup(BeamSearchOptions options) : search(std::move(options)) {}
  BeamSearch search;
  std::optional<BeamBlocks> blocks;
  // [live beams]: the decoder prompt followed by the beam's generated tokens.
  std::vector<std::vector<int32_t>> sequences;
};

struct Sequence {
  Sequence(RequestHandle request_id, GenerationRequest req, EventCallback cb,
           const Tokenizer& tokenizer, uint64_t seed)
      : id(request_id),
        request(std::move(req)),
        callback(std::move(cb)),
        sampler(request.sampling, seed, request.prompt_tokens),
        decoder(tokenizer, request.skip_special_tokens),
        stop(request.stop) {}

  const RequestHandle id;
  GenerationRequest request;  // prompt_tokens filled in by Submit
  EventCallback callback;
  SequenceState state = SequenceState::kWaiting;
  SchedulerEntry entry;         // token counts and block table, shared with the scheduler
  std::vector<int32_t> tokens;  // prompt + generated
  int64_t prompt_len = 0;
  int32_t max_new_tokens = 0;
  Sampler sampler;
  IncrementalDecoder decoder;
  StopMatcher stop;
  // Encoder-decoder requests: the encoder's input (the tokenized source text); `tokens` then
  // starts with the decoder start token.
  std::vector<int32_t> source;
  // Beam-search requests only.
  std::unique_ptr<BeamGroup> beam;
  // Requests wanting prompt log-probabilities, until their first event takes the scores.
  std::unique_ptr<PromptScorer> prompt_scorer;

  absl::Time submitted;
  std::optional<absl::Time> first_scheduled;
  // Prompt tokens the first admission found in the prefix cache.
  int64_t cached_prompt_tokens = 0;
  std::optional<absl::Time> first_token;
  absl::Time last_token;

  int64_t generated() const { return static_cast<int64_t>(tokens.size()) - prompt_len; }
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_SEQUENCE_H_
