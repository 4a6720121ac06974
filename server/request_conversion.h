// Conversion between the proto API and the engine's types. No rules on a request's content live
// here: ToGenerationRequest only maps fields, and Engine::Submit validates the result
// (ValidateGenerationRequest, core/engine/request_validation.h), naming fields by their proto
// paths. Stateless functions; any thread.
#ifndef EMBER_SERVER_REQUEST_CONVERSION_H_
#define EMBER_SERVER_REQUEST_CONVERSION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/engine/engine.h"
#include "core/engine/request.h"
#include "ember/v1/generation.pb.h"

namespace ember {

// Maps `request` onto the engine's request, field by field, with the proto's defaults: an unset
// sampling.temperature is 1.0, or 0 for a beam search (beam.num_beams > 1), whose search takes no
// random choices. Values are copied as sent, out of range or not (an unknown beam.early_stopping
// too), for Engine::Submit to judge. NOT_FOUND `model: ...` when `request.model` is neither empty
// nor `served_model`: the model name is the server's business.
absl::StatusOr<GenerationRequest> ToGenerationRequest(const ember::v1::GenerateRequest& request,
                                                      absl::string_view served_model);

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

}  // namespace ember

#endif  // EMBER_SERVER_REQUEST_CONVERSION_H_
