// The table of bad GenerateRequests that server_bad_request_test.cc sends through both generation
// RPCs: each spoils one field of a good request (tiny Llama: vocabulary 512, context 256) and says
// which status code and message text must come back.
#ifndef EMBER_TESTS_SERVER_BAD_GENERATE_REQUESTS_H_
#define EMBER_TESTS_SERVER_BAD_GENERATE_REQUESTS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ember/v1/generation.pb.h"
#include "grpcpp/support/status.h"

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

}  // namespace ember::testing

#endif  // EMBER_TESTS_SERVER_BAD_GENERATE_REQUESTS_H_
