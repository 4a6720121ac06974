// Every rule about the content of a generation request, in one place. ValidateGenerationRequest
// checks a GenerationRequest (request.h) against the served model's and the deployment's limits
// and names the offending field by its path in the public API (proto/ember/v1/generation.proto),
// as `field: problem`:
//
//   prompt_token_ids[3]: 600 is outside the vocabulary [0, 512)
//   sampling.top_p: must be in (0, 1], got 1.5
//   beam.num_beams: must be in [0, 64], got 65
//
// Engine::Submit calls it once for every request, whoever submits it; afterwards Submit checks
// only what needs the engine's state (tokenizing the prompt, the context length, the KV-cache
// capacity, the deadline), with messages of the same form. The server maps the proto onto the
// struct (server/request_conversion.cc) and leaves every rule to this file. core/ knows nothing of
// protobuf: the field paths are plain strings here.
//
// Adding a request field: its struct member (request.h or sampling_params.h), the proto, the
// server's mapping, its rule here, and the code that uses it.
//
// Pure functions of their arguments; any thread.
#ifndef EMBER_CORE_ENGINE_REQUEST_VALIDATION_H_
#define EMBER_CORE_ENGINE_REQUEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/engine/request.h"
#include "core/engine/sampling_params.h"

namespace ember {

// What a request is checked against: the served model and the deployment's bounds. The engine
// fills it from its ModelInfo and EngineOptions.
struct RequestLimits {
  // prompt_token_ids must be in [0, vocab_size).
  int64_t vocab_size = 0;
  // An encoder-decoder (translation) model: beam.no_repeat_ngram_size is available only there.
  bool encoder_decoder = false;
  // max_new_tokens must be in [0, max_new_tokens_limit].
  int32_t max_new_tokens_limit = 0;
  // Stop strings per request at most, and the byte length of each.
  int max_stop_strings = 16;
  int max_stop_string_bytes = 256;
};

// request_id (GenerationRequest::request_id): at most this many printable ASCII characters.
inline constexpr int kMaxRequestIdBytes = 128;
// top_logprobs: alternatives per position at most.
inline constexpr int32_t kMaxTopLogprobs = 20;

// OK, or INVALID_ARGUMENT `field: problem` for the first rule `request` breaks. The prompt is
// checked as given (text or ids); what it tokenizes to is Engine::Submit's business.
absl::Status ValidateGenerationRequest(const GenerationRequest& request,
                                       const RequestLimits& limits);

// Token ids in [0, vocab_size): INVALID_ARGUMENT `field[i]: <id> is outside the vocabulary
// [0, V)`. The rule of GenerateRequest.prompt_token_ids and of DetokenizeRequest.token_ids.
absl::Status ValidateTokenIds(absl::string_view field, absl::Span<const int32_t> ids,
                              int64_t vocab_size);

// The ranges of the sampling fields alone (part of ValidateGenerationRequest; a Sampler's
// precondition): INVALID_ARGUMENT `sampling.top_p: must be in (0, 1], got 1.5`, or
// `top_logprobs: ...` (a top-level field of the API).
absl::Status ValidateSamplingParams(const SamplingParams& params);

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_REQUEST_VALIDATION_H_
