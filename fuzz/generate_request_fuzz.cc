// Fuzzes request validation as a call meets it: bytes parse as an ember.v1.GenerateRequest (inputs
// protobuf refuses are skipped: they never reach ember), ToGenerationRequest maps them as the
// service does (server/request_conversion.h), and ValidateGenerationRequest judges the result as
// Engine::Submit does (core/engine/request_validation.h).
//
// Invariant: the answer is OK, NOT_FOUND for a model this server does not serve, or
// INVALID_ARGUMENT whose message is `field: problem`, the field being the path of a real field of
// the request ("prompt", "stop[2]", "sampling.top_p"; an index must be inside the repeated field).
// An accepted request is one the engine can take: exactly one prompt form, valid UTF-8 text, ids
// inside the vocabulary, max_new_tokens and stop strings within the limits, sampling parameters in
// their ranges, and a beam search with nothing it cannot honour.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "core/engine/request_validation.h"
#include "ember/v1/generation.pb.h"
#include "fuzz/fuzz_util.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/stubs/logging.h"
#include "server/request_conversion.h"

namespace ember {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr absl::string_view kServedModel = "ember-fuzz";

RequestLimits Limits() {
  RequestLimits limits;
  limits.vocab_size = 1000;
  limits.max_new_tokens_limit = 2048;
  return limits;
}

// The field path at the start of `message`: letters, digits, '_', '.', '[', ']'.
absl::string_view LeadingPath(absl::string_view message) {
  size_t n = 0;
  while (n < message.size() && (absl::ascii_isalnum(message[n]) || message[n] == '_' ||
                                message[n] == '.' || message[n] == '[' || message[n] == ']')) {
    ++n;
  }
  return message.substr(0, n);
}

// Whether `path` ("sampling.top_p", "stop[3]") names a field of `request` (an index must be
// inside the repeated field as sent).
bool NamesField(const Message& request, absl::string_view path) {
  const Message* message = &request;
  for (absl::string_view segment : absl::StrSplit(path, '.')) {
    if (message == nullptr) return false;  // a path that continues past a scalar field
    std::string name(segment);
    int index = -1;
    if (const size_t open = segment.find('['); open != absl::string_view::npos) {
      if (!absl::EndsWith(segment, "]") ||
          !absl::SimpleAtoi(segment.substr(open + 1, segment.size() - open - 2), &index)) {
        return false;
      }
      name = std::string(segment.substr(0, open));
    }
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(name);
    if (field == nullptr) return false;
    if (index >= 0 &&
        (!field->is_repeated() || index >= message->GetReflection()->FieldSize(*message, field))) {
      return false;
    }
    message = field->type() == FieldDescriptor::TYPE_MESSAGE && !field->is_repeated()
                  ? &message->GetReflection()->GetMessage(*message, field)
                  : nullptr;
  }
  return true;
}

void CheckRejected(const v1::GenerateRequest& request, const absl::Status& status) {
  if (status.code() == absl::StatusCode::kNotFound) {
    EMBER_FUZZ_CHECK(!request.model().empty() && request.model() != kServedModel &&
                         absl::StartsWith(status.message(), "model: "),
                     "NOT_FOUND for a served model: ", status.ToString());
    return;
  }
  EMBER_FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
                   "unexpected code: ", status.ToString());
  const absl::string_view message = status.message();
  const absl::string_view path = LeadingPath(message);
  EMBER_FUZZ_CHECK(!path.empty() && absl::StartsWith(message.substr(path.size()), ": "),
                   "message is not `field: problem`: ", message);
  EMBER_FUZZ_CHECK(NamesField(request, path), "message names no field of the request: ", message);
}

void CheckAccepted(const v1::GenerateRequest& request, const GenerationRequest& out,
                   const RequestLimits& limits) {
  EMBER_FUZZ_CHECK(out.prompt.empty() != out.prompt_tokens.empty(),
                   "accepted with both or neither prompt form");
  EMBER_FUZZ_CHECK(fuzz::IsValidUtf8(out.prompt), "accepted an invalid UTF-8 prompt");
  for (const int32_t id : out.prompt_tokens) {
    EMBER_FUZZ_CHECK(id >= 0 && id < limits.vocab_size, "accepted prompt token id ", id);
  }
  EMBER_FUZZ_CHECK(out.max_new_tokens >= 0 && out.max_new_tokens <= limits.max_new_tokens_limit,
                   "accepted max_new_tokens ", out.max_new_tokens);
  EMBER_FUZZ_CHECK(static_cast<int>(out.stop.size()) <= limits.max_stop_strings, "accepted ",
                   out.stop.size(), " stop strings");
  for (const std::string& stop : out.stop) {
    EMBER_FUZZ_CHECK(!stop.empty() &&
                         static_cast<int>(stop.size()) <= limits.max_stop_string_bytes &&
                         fuzz::IsValidUtf8(stop),
                     "accepted a stop string of ", stop.size(), " bytes");
  }
  const SamplingParams& p = out.sampling;
  EMBER_FUZZ_CHECK(p.temperature >= 0 && p.temperature <= 100 && p.top_k >= 0 && p.top_p > 0 &&
                       p.top_p <= 1 && p.min_p >= 0 && p.min_p <= 1 && p.repetition_penalty > 0 &&
                       p.repetition_penalty <= 10 && p.presence_penalty >= -2 &&
                       p.presence_penalty <= 2 && p.frequency_penalty >= -2 &&
                       p.frequency_penalty <= 2 && p.top_logprobs >= 0 && p.top_logprobs <= 20,
                   "accepted sampling parameters out of range");
  if (out.beam.num_beams > 1) {
    EMBER_FUZZ_CHECK(p.temperature == 0 && out.stop.empty() && !out.ignore_eos && !p.logprobs &&
                         p.top_logprobs == 0,
                     "accepted a beam search that samples");
  }
  EMBER_FUZZ_CHECK(out.request_id == request.request_id(), "request_id not carried over");
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // protobuf logs every proto3 string with invalid UTF-8 it refuses; those inputs are skipped.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ember::v1::GenerateRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const ember::RequestLimits limits = ember::Limits();
  const auto converted = ember::ToGenerationRequest(request, ember::kServedModel);
  const absl::Status status =
      converted.ok() ? ember::ValidateGenerationRequest(*converted, limits) : converted.status();
  if (status.ok()) {
    ember::CheckAccepted(request, *converted, limits);
  } else {
    ember::CheckRejected(request, status);
  }
  return 0;
}
