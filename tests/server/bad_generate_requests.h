// The table of bad GenerateRequests that server_bad_request_test.cc sends through both generation
// RPCs: each spoils one field of a good request (tiny Llama: vocabulary 512, context 256) and says
// which status code and message text must come back. Together they reach every rule of
// core/engine/request_validation.cc and every refusal of Engine::Submit the tiny model allows.
// Plus HasFieldForm, the form every such message has.
#ifndef EMBER_TESTS_SERVER_BAD_GENERATE_REQUESTS_H_
#define EMBER_TESTS_SERVER_BAD_GENERATE_REQUESTS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "ember/v1/generation.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest.h"

namespace ember::testing {

inline constexpr int32_t kTinyVocab = 512;
inline constexpr int32_t kTinyContext = 256;

struct BadGenerateRequest {
  std::string name;
  // Spoils a good request.
  std::function<void(ember::v1::GenerateRequest&)> mutate;
  grpc::StatusCode code;
  // Text the status message must contain: the field's name, and often the reason.
  std::string expect;
};

std::vector<BadGenerateRequest> BadGenerateRequests();

// Whether `message` has the form of ember's request errors (README): `field: problem`, the field
// being a path into `request` (`prompt`, `stop[2]`, `sampling.top_p`, `beam.num_beams`), matching
// ^[a-z_]+(\[[0-9]+\])?(\.[a-z_]+(\[[0-9]+\])?)*: and naming a field that request's descriptor
// has, with any index inside the repeated field as sent.
::testing::AssertionResult HasFieldForm(absl::string_view message,
                                        const google::protobuf::Message& request);

}  // namespace ember::testing

#endif  // EMBER_TESTS_SERVER_BAD_GENERATE_REQUESTS_H_
