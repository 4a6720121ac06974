#include "tests/server/server_test_fixture.h"

#include <cmath>
#include <fstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/http_get.h"
#include "tools/make_model/make_model.h"

namespace ember::testing {
namespace {

const nlohmann::json& Reference() {
  static const nlohmann::json* j = [] {
    std::ifstream in(SourceDir() + "/tests/fixtures/decoder_reference/tiny-llama.json");
    return new nlohmann::json(nlohmann::json::parse(in));
  }();
  return *j;
}

}  // namespace

namespace {

// A tiny generated model of `preset`, made once per test binary with the reference fixtures' seed.
std::string MakeTinyModelDir(const std::string& preset) {
  static TempDir* temp = new TempDir();  // lives for the whole test binary
  tools::MakeModelOptions options;
  options.out_dir = temp->File(preset);
  options.spec = *tools::PresetSpec(preset);
  options.seed = 1;
  auto made = tools::MakeModel(options);
  EXPECT_TRUE(made.ok()) << made.status();
  return options.out_dir;
}

}  // namespace

const std::string& TinyLlamaDir() {
  static const std::string* dir = new std::string(MakeTinyModelDir("tiny-llama"));
  return *dir;
}

const std::string& TinyMarianDir() {
  static const std::string* dir = new std::string(MakeTinyModelDir("tiny-marian"));
  return *dir;
}

std::vector<int32_t> ReferencePrompt(size_t i) {
  return Reference()["results"][i]["prompt"].get<std::vector<int32_t>>();
}

std::vector<int32_t> ReferenceGreedy(size_t i) {
  return Reference()["results"][i]["greedy"].get<std::vector<int32_t>>();
}

ServerOptions TestServerOptions() {
  ServerOptions o;
  o.engine.model_dir = TinyLlamaDir();
  o.engine.compute = DType::kF32;
  o.engine.threads = 1;
  o.grpc_address = "127.0.0.1:0";
  o.metrics_address = "127.0.0.1:0";
  o.log_requests = false;
  o.drain_grace = absl::Seconds(10);
  return o;
}

ServerHarness::ServerHarness(ServerOptions options) {
  auto server = EmberServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) std::abort();
  server_ = std::move(*server);
  channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                 grpc::InsecureChannelCredentials());
  stub_ = ember::v1::Generation::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

ServerHarness::~ServerHarness() { server_->Shutdown(); }

std::string ServerHarness::Metrics() {
  auto body = HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_TRUE(body.ok()) << body.status();
  return body.ok() ? *body : "";
}

double ServerHarness::WaitForMetric(const std::string& series, double want) {
  double value = MetricValue(Metrics(), series);
  for (int i = 0; i < 200 && value != want; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    value = MetricValue(Metrics(), series);
  }
  return value;
}

ember::v1::GenerateRequest GreedyRequest(size_t i, int max_new_tokens) {
  ember::v1::GenerateRequest r;
  for (int32_t t : ReferencePrompt(i)) r.add_prompt_token_ids(t);
  r.mutable_sampling()->set_temperature(0);
  r.set_max_new_tokens(max_new_tokens);
  r.set_ignore_eos(true);
  r.set_return_token_ids(true);
  return r;
}

}  // namespace ember::testing
