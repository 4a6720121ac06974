// What callers submit to the Engine and what they get back. Plain data, no gRPC.
#ifndef EMBER_CORE_ENGINE_REQUEST_H_
#define EMBER_CORE_ENGINE_REQUEST_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/engine/beam_search.h"
#include "core/engine/sampler.h"
#include "core/engine/sampling_params.h"

namespace ember {

// The engine's own id of a submitted request: Submit returns it, Cancel takes it, every event
// carries it, and the server logs it as engine_id. Not the caller's request_id.
using RequestHandle = uint64_t;

// Beam search settings (transformers' generate(num_beams=...); docs/MARIAN.md). num_beams 0 or 1
// turns it off: the request samples (or decodes greedily) as `sampling` says. The ranges, as in the
// API's BeamSearch message, are checked by ValidateGenerationRequest (request_validation.h).
struct BeamParams {
  int32_t num_beams = 1;  // [0, kMaxNumBeams]
  // Hypothesis scores are sum_logprob / length^length_penalty (length counts the eos).
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::kHeuristic;
  int32_t no_repeat_ngram_size = 0;  // 0 = off
  int32_t num_return_sequences = 1;  // the n-best list's length, [0, num_beams]; 0 means 1
};

// A request as Engine::Submit takes it. Each field has a counterpart in the API (generation.proto's
// GenerateRequest), whose path ValidateGenerationRequest names when it refuses the field.
struct GenerationRequest {
  // The caller's own id, echoed in the request's log line (the API's request_id): up to 128
  // printable ASCII characters. Not the engine's RequestHandle.
  std::string request_id;
  // The prompt, exactly one of: as text (tokenized with add_special_tokens, so a BOS is added when
  // the tokenizer says so), or as token ids (the API's prompt_token_ids).
  std::string prompt;
  std::vector<int32_t> prompt_tokens;
  SamplingParams sampling;
  // Tokens to generate at most. 0 means the engine's default (EngineOptions), except for a request
  // wanting prompt log-probabilities, which then only scores its prompt (generates nothing).
  int32_t max_new_tokens = 0;
  // Generation ends when the text contains any of these; the stop string is not returned.
  std::vector<std::string> stop;
  // Keep generating past end-of-sequence tokens.
  bool ignore_eos = false;
  // Drop special tokens (BOS/EOS/...) from the returned text.
  bool skip_special_tokens = true;
  // When set, a request not finished by then ends with kDeadline; one still waiting is never
  // started.
  std::optional<absl::Time> deadline;
  // Beam search instead of sampling when beam.num_beams > 1. Such a request gets one event, the
  // final one, carrying the best hypothesis as tokens/text and the n-best list as hypotheses.
  // Sampling parameters other than the seed (temperature must be 0), stop strings, ignore_eos and
  // logprobs are refused with it.
  BeamParams beam;
  // Prompt log-probabilities (prompt_scorer.h): every prompt token's after the first, given the
  // tokens before it, with prompt_top_logprobs alternatives ([0, kMaxTopLogprobs]) per position;
  // either field asks for them. Decoder-only models, without beam search.
  bool prompt_logprobs = false;
  int32_t prompt_top_logprobs = 0;

  bool wants_prompt_logprobs() const { return prompt_logprobs || prompt_top_logprobs > 0; }
};

enum class FinishReason {
  kNone,          // not finished
  kEos,           // produced an end-of-sequence token
  kStopSequence,  // the text matched a stop string
  kLength,        // max_new_tokens or the model's context reached
  kCancelled,     // Cancel(), CancelAll() (the server's drain) or engine shutdown
  kDeadline,      // the deadline passed
  kRejected,      // refused at admission: the waiting queue was full (EngineObserver counts it)
  kError,         // the forward pass or sampling failed; see GenerationEvent::error
};

absl::string_view FinishReasonName(FinishReason reason);

// Per-request timings and counts, filled in the final event.
struct RequestTimings {
  absl::Duration queue_wait;           // submit -> first scheduled
  absl::Duration time_to_first_token;  // submit -> first generated token
  absl::Duration prefill;              // first scheduled -> first token
  absl::Duration decode;               // first token -> finish
  absl::Duration total;                // submit -> finish
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  // Prompt tokens served from the prefix cache at admission (not computed for this request).
  int64_t cached_prompt_tokens = 0;
  int32_t preemptions = 0;
};

// One finished hypothesis of a beam search.
struct Hypothesis {
  std::vector<int32_t> tokens;  // generated tokens, eos included when it ended on one
  std::string text;             // decoded as the request's skip_special_tokens says
  double score = 0.0;           // sum_logprob / tokens.size()^length_penalty
  double sum_logprob = 0.0;
};

struct GenerationEvent {
  RequestHandle id = 0;
  // Tokens generated since the previous event (usually one).
  std::vector<int32_t> tokens;
  // Text that became final with them (may be empty while a multi-byte character or a possible
  // stop string is pending).
  std::string text;
  // One entry per token in `tokens` when the request asked for logprobs.
  std::vector<SampledToken> logprobs;
  // When the request asked for prompt log-probabilities, in its first event (the one with the
  // first generated token, or the final one of a scoring-only request): entry i scores prompt
  // token i + 1.
  std::vector<SampledToken> prompt_logprobs;
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  absl::Status error;      // kError: what failed; kCancelled by CancelAll: why
  RequestTimings timings;  // final event only
  // Final event of a beam search only: the n-best list, best first (hypotheses[0] is also in
  // tokens / text).
  std::vector<Hypothesis> hypotheses;
};

// Called on the engine's loop thread for every event of a request, in order, ending with exactly
// one event that has finished == true. Must return quickly and must not call back into the Engine
// synchronously except Cancel (which only queues).
using EventCallback = std::function<void(const GenerationEvent&)>;

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_REQUEST_H_
