// A real EmberServer on an ephemeral loopback port, serving a tiny generated Llama, plus a stub.
#ifndef EMBER_TESTS_SERVER_SERVER_TEST_FIXTURE_H_
#define EMBER_TESTS_SERVER_SERVER_TEST_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "ember/v1/generation.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/ember_server.h"
#include "tests/test_util/temp_dir.h"

namespace ember::testing {

// The generated model directory (made once per test binary) and its PyTorch reference fixture.
const std::string& TinyLlamaDir();
// The tiny MarianMT (translation) model, made once per test binary with the seed of
// tests/fixtures/marian_reference/tiny-marian.json.
const std::string& TinyMarianDir();
std::vector<int32_t> ReferencePrompt(size_t i);
std::vector<int32_t> ReferenceGreedy(size_t i);

// Options for a test server: loopback, ephemeral ports, f32, quiet request logs.
ServerOptions TestServerOptions();

class ServerHarness {
 public:
  explicit ServerHarness(ServerOptions options = TestServerOptions());
  ~ServerHarness();

  EmberServer& server() { return *server_; }
  ember::v1::Generation::Stub& stub() { return *stub_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  // GET /metrics.
  std::string Metrics();
  // A metric's value as published (polls until `want` or 2 s pass, for values updated at step end).
  double WaitForMetric(const std::string& series, double want);

 private:
  std::unique_ptr<EmberServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ember::v1::Generation::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// A greedy request for reference prompt i.
ember::v1::GenerateRequest GreedyRequest(size_t i, int max_new_tokens = 12);

}  // namespace ember::testing

#endif  // EMBER_TESTS_SERVER_SERVER_TEST_FIXTURE_H_
