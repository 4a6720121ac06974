// Turns a request kind into a concrete GenerateRequest plus what the client does while reading it.
// Pure: every random choice comes from the caller's generator, so a seed replays a run's requests.
#ifndef EMBER_TOOLS_SOAK_REQUEST_PLAN_H_
#define EMBER_TOOLS_SOAK_REQUEST_PLAN_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "ember/v1/generation.pb.h"
#include "tools/soak/request_mix.h"

namespace ember::soak {

// How the requests of each kind are shaped.
struct RequestShape {
  // Normal and slow requests ask for max_new_tokens uniform in [1, this]. >= 1.
  int max_new_tokens = 64;
  // Cancelled requests cancel after k tokens, k uniform in [1, this]; they ask for k + 64 tokens
  // with ignore_eos, so the cancel always comes mid-stream. >= 1.
  int cancel_after_tokens_max = 16;
  // Short-deadline requests get a deadline uniform in [min, max] milliseconds and ask for up to
  // the context's worth of tokens (at most 1024), so most run out of time. 1 <= min <= max.
  int deadline_min_ms = 5;
  int deadline_max_ms = 300;
  // Slow readers sleep uniform in [this / 2, this] milliseconds after every message, and ask for
  // top-20 logprobs so their messages are large. >= 0.
  int slow_read_delay_ms = 20;
  // The served model's context length (prompt + generation), from ListModels: caps every
  // max_new_tokens so no valid request is refused for length. 0 means unknown: no cap.
  int context_length = 0;
  // The model's vocabulary size, from ListModels: a quarter of valid requests then send random
  // prompt_token_ids instead of text. 0 means unknown: text prompts only.
  int vocab_size = 0;
};

// One request and the client behaviour that goes with it.
struct PlannedRequest {
  RequestKind kind = RequestKind::kNormal;
  ember::v1::GenerateRequest request;
  // kCancel: cancel once this many tokens have arrived; 0 for the other kinds.
  int cancel_after_tokens = 0;
  // kDeadline: the call's deadline; zero (no deadline) for the other kinds.
  absl::Duration deadline = absl::ZeroDuration();
  // kSlowRead: sleep this long after each message; zero for the other kinds.
  absl::Duration read_delay = absl::ZeroDuration();
};

// Prompts are at most this many tokens (text prompts are a few words; id prompts are drawn this
// long at most), which leaves the rest of the context for generation.
inline constexpr int kMaxPromptTokens = 32;

// Draws one request of `kind` tagged with `request_id` (printable ASCII, <= 128 characters).
PlannedRequest PlanRequest(RequestKind kind, const RequestShape& shape, std::mt19937_64& rng,
                           const std::string& request_id);

// The invalid requests an kInvalid draw rotates through, each refused by the server's validation
// with INVALID_ARGUMENT naming one field (empty prompt, out-of-range sampling values, NaN, ...).
inline constexpr int kNumInvalidVariants = 13;
// `variant` in [0, kNumInvalidVariants); `request_id` is set unless the variant is the bad id.
ember::v1::GenerateRequest InvalidRequest(int variant, const std::string& request_id);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_REQUEST_PLAN_H_
