// Validation and conversion between the proto API and the engine's types. Validation lives here
// (one place); the engine re-checks only what depends on its state (context, KV capacity).
#ifndef EMBER_SERVER_REQUEST_CONVERSION_H_
#define EMBER_SERVER_REQUEST_CONVERSION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/engine/engine.h"
#include "core/engine/request.h"
#include "ember/v1/generation.pb.h"
#include "server/server_options.h"

namespace ember {

// What conversion needs to know about the served model and the server's limits.
struct RequestLimits {
  std::string model_name;
  int64_t vocab_size = 0;
  // An encoder-decoder (translation) model: beam.no_repeat_ngram_size is available only there.
  bool encoder_decoder = false;
  int32_t max_new_tokens_limit = 0;
  int max_stop_strings = 16;
  int max_stop_string_bytes = 256;
};

// Checks every field of `request` and builds the engine request. A beam search (beam.num_beams > 1)
// must not carry sampling settings, stop strings or logprobs; its sampling becomes greedy.
// INVALID_ARGUMENT naming the field (its proto name) for a bad value; NOT_FOUND for an unknown
// model. Requests that came through gRPC were already checked for UTF-8 by ParseRequest
// (request_parsing.h); the checks here keep other callers (tests, fuzzers) honest.
absl::StatusOr<GenerationRequest> ToGenerationRequest(const ember::v1::GenerateRequest& request,
                                                      const RequestLimits& limits);

// Fills the proto timings and usage from the engine's.
void FillUsageAndTimings(const RequestTimings& timings, ember::v1::Usage* usage,
                         ember::v1::Timings* out);

// Appends a beam search's n-best list (GenerationEvent::hypotheses), with each hypothesis' token
// ids only when `with_token_ids`.
void AppendHypotheses(const std::vector<Hypothesis>& hypotheses, bool with_token_ids,
                      google::protobuf::RepeatedPtrField<ember::v1::Hypothesis>* out);

// Appends the logprobs of one sampled token (token strings from the tokenizer).
void AppendLogprobs(const SampledToken& sampled, const Tokenizer& tokenizer,
                    google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs>* out);

// Byte offset of the first invalid UTF-8 sequence in `text`, or npos when it is valid.
size_t FindInvalidUtf8Offset(absl::string_view text);

}  // namespace ember

#endif  // EMBER_SERVER_REQUEST_CONVERSION_H_
