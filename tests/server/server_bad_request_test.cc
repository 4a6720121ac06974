// Bad requests through the real gRPC server: every case is answered with the right status code
// and a message naming the field, through Generate and GenerateStream alike; nothing bad is ever
// admitted (the engine runs no step for it); the server stays SERVING. Plus what only the server
// can judge: an expired deadline, calls while loading and while draining, over-size messages and
// metadata, and bytes protobuf would refuse (invalid UTF-8, garbage).

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/engine/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/server/bad_generate_requests.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/fake_clock.h"
#include "tests/test_util/http_get.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;
using HealthResponse = grpc::health::v1::HealthCheckResponse;

grpc::Status Unary(ember::v1::Generation::Stub& stub, const ember::v1::GenerateRequest& request,
                   ember::v1::GenerateResponse* response = nullptr) {
  grpc::ClientContext context;
  ember::v1::GenerateResponse local;
  return stub.Generate(&context, request, response != nullptr ? response : &local);
}

// Reads the whole stream; returns its status and counts the messages.
grpc::Status Stream(ember::v1::Generation::Stub& stub, const ember::v1::GenerateRequest& request,
                    int* messages = nullptr) {
  grpc::ClientContext context;
  auto reader = stub.GenerateStream(&context, request);
  ember::v1::GenerateStreamResponse m;
  int n = 0;
  while (reader->Read(&m)) ++n;
  if (messages != nullptr) *messages = n;
  return reader->Finish();
}

grpc::Status Tokenize(ember::v1::Generation::Stub& stub, const ember::v1::TokenizeRequest& request,
                      ember::v1::TokenizeResponse* response = nullptr) {
  grpc::ClientContext context;
  ember::v1::TokenizeResponse local;
  return stub.Tokenize(&context, request, response != nullptr ? response : &local);
}

grpc::Status ListModels(ember::v1::Generation::Stub& stub) {
  grpc::ClientContext context;
  ember::v1::ListModelsResponse response;
  return stub.ListModels(&context, {}, &response);
}

// Sends `bytes` as the request of `method` ("/ember.v1.Generation/Generate"), bypassing the
// client's protobuf serialization, as a client in another language could.
grpc::Status RawUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& bytes) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

HealthResponse::ServingStatus Health(grpc::health::v1::Health::Stub& health,
                                     const std::string& service = "") {
  grpc::ClientContext c;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthResponse response;
  const grpc::Status s = health.Check(&c, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response.status();
}

// A counter that has not been created yet is absent from /metrics, i.e. zero.
double Counter(ServerHarness& h, const std::string& series) {
  const double v = MetricValue(h.Metrics(), series);
  return std::isnan(v) ? 0 : v;
}

// What would move if a request were admitted: the engine's step count and the work counters.
struct AdmissionCounters {
  int64_t steps;
  double prompt_tokens;
  double finished;

  // Read once the engine is idle and its last step is accounted for (the final event of a request
  // reaches the client before the engine's step statistics are updated).
  static AdmissionCounters Read(ServerHarness& h) {
    int64_t steps = -1;
    for (int i = 0; i < 250; ++i) {
      const EngineSnapshot s = h.server().engine().Snapshot();
      if (!s.busy && s.steps == steps) break;
      steps = s.steps;
      absl::SleepFor(absl::Milliseconds(20));
    }
    const std::string text = h.Metrics();
    double finished = 0;
    for (const char* reason :
         {"eos", "stop_sequence", "length", "cancelled", "deadline", "rejected", "error"}) {
      const double v =
          MetricValue(text, std::string("ember_requests_total{finish_reason=\"") + reason + "\"}");
      if (!std::isnan(v)) finished += v;
    }
    return {h.server().engine().Snapshot().steps, MetricValue(text, "ember_prompt_tokens_total"),
            finished};
  }
};

void ExpectNothingAdmitted(ServerHarness& h, const AdmissionCounters& before) {
  const AdmissionCounters after = AdmissionCounters::Read(h);
  EXPECT_EQ(after.steps, before.steps) << "the engine ran a step for a refused request";
  EXPECT_EQ(after.prompt_tokens, before.prompt_tokens);
  EXPECT_EQ(after.finished, before.finished);
  EXPECT_EQ(h.server().engine().Snapshot().kv_blocks_used, 0);
}

// Still serving: readiness SERVING and a good request gives the reference tokens.
void ExpectStillServing(ServerHarness& h) {
  EXPECT_EQ(Health(h.health()), HealthResponse::SERVING);
  EXPECT_EQ(Health(h.health(), "liveness"), HealthResponse::SERVING);
  ember::v1::GenerateResponse ok;
  const grpc::Status s = Unary(h.stub(), GreedyRequest(1), &ok);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(std::vector<int32_t>(ok.token_ids().begin(), ok.token_ids().end()), ReferenceGreedy(1));
}

class BadRequestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new ServerHarness(); }
  static void TearDownTestSuite() { delete harness_; }
  static ServerHarness* harness_;
};
ServerHarness* BadRequestTest::harness_ = nullptr;

TEST_F(BadRequestTest, GenerateMatrixNamesTheFieldAndAdmitsNothing) {
  const std::vector<BadGenerateRequest> cases = BadGenerateRequests();
  EXPECT_GE(cases.size(), 70u);
  const AdmissionCounters before = AdmissionCounters::Read(*harness_);
  for (const BadGenerateRequest& c : cases) {
    SCOPED_TRACE(c.name);
    ember::v1::GenerateRequest r = GreedyRequest(0);
    c.mutate(r);
    const grpc::Status unary = Unary(harness_->stub(), r);
    EXPECT_EQ(unary.error_code(), c.code) << unary.error_message();
    EXPECT_THAT(unary.error_message(), HasSubstr(c.expect));
    int messages = -1;
    const grpc::Status streamed = Stream(harness_->stub(), r, &messages);
    EXPECT_EQ(streamed.error_code(), c.code) << streamed.error_message();
    EXPECT_THAT(streamed.error_message(), HasSubstr(c.expect));
    EXPECT_EQ(messages, 0);
  }
  ExpectNothingAdmitted(*harness_, before);
  ExpectStillServing(*harness_);
}

// One format for every refusal of a GenerateRequest, whichever check made it (the server's model
// check, the engine's validation, the engine's context and KV-cache checks, the UTF-8 check of
// the wire bytes): `field: problem`, the field being a real path into the request as sent.
TEST_F(BadRequestTest, EveryRefusalIsFieldColonProblem) {
  for (const BadGenerateRequest& c : BadGenerateRequests()) {
    SCOPED_TRACE(c.name);
    ember::v1::GenerateRequest r = GreedyRequest(0);
    c.mutate(r);
    const grpc::Status unary = Unary(harness_->stub(), r);
    EXPECT_EQ(unary.error_code(), c.code) << unary.error_message();
    EXPECT_TRUE(HasFieldForm(unary.error_message(), r));
  }
}

// The edges the matrix stops short of are accepted: zeros meaning "default", the largest values.
TEST_F(BadRequestTest, TheLimitsThemselvesAreAccepted) {
  ember::v1::GenerateRequest r = GreedyRequest(0, 2);
  r.set_top_logprobs(0);  // n-best 0: no alternatives
  r.set_logprobs(true);
  r.set_request_id(std::string(128, 'x'));
  for (int i = 0; i < 16; ++i) r.add_stop()->assign(256, static_cast<char>('a' + i));
  ember::v1::GenerateResponse response;
  grpc::Status s = Unary(harness_->stub(), r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.logprobs_size(), 2);
  EXPECT_EQ(response.logprobs(0).top_size(), 0);
  r.set_top_logprobs(20);
  s = Unary(harness_->stub(), r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.logprobs(0).top_size(), 20);
  // A prompt one token short of the context still has room for one new token.
  ember::v1::GenerateRequest full = GreedyRequest(0, 0);
  full.clear_prompt_token_ids();
  for (int i = 0; i < kTinyContext - 1; ++i) full.add_prompt_token_ids(5);
  s = Unary(harness_->stub(), full, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.usage().generated_tokens(), 1);
  EXPECT_EQ(response.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
}

// max_new_tokens past the context is not an error: generation stops at the context (documented
// for FINISH_REASON_LENGTH), as it must for any prompt length.
TEST_F(BadRequestTest, MaxNewTokensPastTheContextStopsAtTheContext) {
  ember::v1::GenerateRequest r = GreedyRequest(0, 4096);
  ember::v1::GenerateResponse response;
  const grpc::Status s = Unary(harness_->stub(), r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(response.usage().prompt_tokens() + response.usage().generated_tokens(), kTinyContext);
}

TEST_F(BadRequestTest, TokenizeBadRequests) {
  const AdmissionCounters before = AdmissionCounters::Read(*harness_);
  struct TokenizeCase {
    std::string name;
    std::string model;
    std::string text;
    grpc::StatusCode code;
    std::string expect;
  };
  const std::vector<TokenizeCase> cases = {
      {"unknown model", "no-such-model", "hi", grpc::NOT_FOUND, "model: \"no-such-model\""},
      {"model not UTF-8", "\xFF", "hi", grpc::INVALID_ARGUMENT, "model: not valid UTF-8 at byte 0"},
      {"text not UTF-8", "", "Hello \xC3\x28 world", grpc::INVALID_ARGUMENT,
       "text: not valid UTF-8 at byte 6"},
      {"text cut mid-character", "", "Gr\xC3\xBC\xC3", grpc::INVALID_ARGUMENT,
       "text: not valid UTF-8 at byte 4"},
      {"text over the 4 MiB message limit", "", std::string(5 << 20, 'a'), grpc::RESOURCE_EXHAUSTED,
       ""},
  };
  for (const TokenizeCase& c : cases) {
    SCOPED_TRACE(c.name);
    ember::v1::TokenizeRequest r;
    r.set_model(c.model);
    r.set_text(c.text);
    const grpc::Status s = Tokenize(harness_->stub(), r);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.expect));
    if (c.code != grpc::RESOURCE_EXHAUSTED) {
      EXPECT_TRUE(HasFieldForm(s.error_message(), r));
    }
  }
  // Empty model means the default one; empty text is no tokens.
  ember::v1::TokenizeRequest empty;
  ember::v1::TokenizeResponse tokens;
  ASSERT_TRUE(Tokenize(harness_->stub(), empty, &tokens).ok());
  EXPECT_EQ(tokens.token_ids_size(), 0);
  ExpectNothingAdmitted(*harness_, before);
  ExpectStillServing(*harness_);
}

// Bytes that are not a GenerateRequest at all, sent as another client's gRPC library could.
TEST_F(BadRequestTest, MalformedMessagesAreInvalidArgument) {
  const std::string generate = "/ember.v1.Generation/Generate";
  struct RawCase {
    std::string name;
    std::string method;
    std::string bytes;
    std::string expect;
  };
  // Field 2 (prompt), length-delimited, says 100 bytes and carries 5.
  const std::string truncated = std::string("\x12\x64", 2) + "hello";
  const std::vector<RawCase> cases = {
      {"a varint that never ends", generate, std::string(11, '\xFF'),
       "request: not a valid ember.v1.GenerateRequest"},
      {"a string cut short", generate, truncated, "request: not a valid ember.v1.GenerateRequest"},
      {"tag 0", generate, std::string("\x00\x01", 2), "request: not a valid"},
      {"Tokenize: a string cut short", "/ember.v1.Generation/Tokenize", truncated,
       "request: not a valid ember.v1.TokenizeRequest"},
      {"ListModels: a string cut short", "/ember.v1.Generation/ListModels", truncated,
       "request: not a valid ember.v1.ListModelsRequest"},
      // Field 2 holding 0xC3 alone: ember's own check names the field, not protobuf's parser.
      {"prompt not UTF-8, hand-encoded", generate,
       std::string("\x12\x03"
                   "ab\xC3",
                   5),
       "prompt: not valid UTF-8 at byte 2"},
  };
  for (const RawCase& c : cases) {
    SCOPED_TRACE(c.name);
    const grpc::Status s = RawUnary(harness_->channel(), c.method, c.bytes);
    EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.expect));
  }
  ExpectStillServing(*harness_);
}

TEST_F(BadRequestTest, OversizeMessagesAreRefusedByGrpc) {
  // Over --max_receive_message_bytes (4 MiB): refused by gRPC before any parsing.
  ember::v1::GenerateRequest huge = GreedyRequest(0);
  for (int i = 0; i < (5 << 20) / 2; ++i) huge.add_prompt_token_ids(300);  // 2-byte varints
  grpc::Status s = Unary(harness_->stub(), huge);
  EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << s.error_message();
  s = Stream(harness_->stub(), huge);
  EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << s.error_message();
  ExpectStillServing(*harness_);
}

// Headers over gRPC's limit on received metadata (8 KiB by default). gRPC 1.51 answers the call
// RESOURCE_EXHAUSTED and closes the whole connection, so other calls on it end too (with the same
// status); ember's part is that their engine requests are cancelled and freed, that the server
// keeps serving, and that the client's channel reconnects.
TEST_F(BadRequestTest, OversizeMetadataGetsAClearStatus) {
  // A connection of its own (gRPC shares connections between channels to the same address).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(harness_->server().grpc_port()),
                                grpc::InsecureChannelCredentials(), args);
  auto stub = ember::v1::Generation::NewStub(channel);
  // A stream in flight on that connection.
  harness_->server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  grpc::ClientContext stream_context;
  auto reader = stub->GenerateStream(&stream_context, GreedyRequest(0, 100));
  ember::v1::GenerateStreamResponse m;
  ASSERT_TRUE(reader->Read(&m));
  grpc::ClientContext context;
  context.AddMetadata("x-padding", std::string(64 << 10, 'p'));
  ember::v1::GenerateResponse response;
  const grpc::Status s = stub->Generate(&context, GreedyRequest(0, 2), &response);
  EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("metadata size exceeds limit"));
  while (reader->Read(&m)) {
  }
  const grpc::Status in_flight = reader->Finish();
  EXPECT_TRUE(in_flight.ok() || in_flight.error_code() == grpc::RESOURCE_EXHAUSTED)
      << in_flight.error_code() << " " << in_flight.error_message();
  harness_->server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  EXPECT_EQ(harness_->WaitForMetric("ember_kv_cache_blocks_used", 0), 0);
  ExpectStillServing(*harness_);
  grpc::ClientContext again;
  again.set_wait_for_ready(true);
  again.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status reconnected = stub->Generate(&again, GreedyRequest(0, 2), &response);
  EXPECT_TRUE(reconnected.ok()) << reconnected.error_message();
}

// A client whose deadline passed before it called never reaches the engine.
TEST_F(BadRequestTest, ExpiredClientDeadlineIsNeverAdmitted) {
  const AdmissionCounters before = AdmissionCounters::Read(*harness_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  ember::v1::GenerateResponse response;
  EXPECT_EQ(harness_->stub().Generate(&context, GreedyRequest(0), &response).error_code(),
            grpc::DEADLINE_EXCEEDED);
  ExpectNothingAdmitted(*harness_, before);
  ExpectStillServing(*harness_);
}

// Own servers: these change server-wide state.

// The server's clock is an hour ahead, so every deadline a client sets (a minute here) has passed
// when the request arrives: the server itself must refuse it, before the engine sees it.
TEST(BadRequestDeadlineTest, DeadlinePassedOnArrivalIsRefusedBeforeAdmission) {
  FakeClock clock(absl::Now() + absl::Hours(1));
  ServerOptions options = TestServerOptions();
  options.engine.clock = &clock;
  ServerHarness h(options);
  const AdmissionCounters before = AdmissionCounters::Read(h);
  auto with_deadline = [](grpc::ClientContext& c) {
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(1));
  };
  grpc::ClientContext unary_context;
  with_deadline(unary_context);
  ember::v1::GenerateResponse response;
  grpc::Status s = h.stub().Generate(&unary_context, GreedyRequest(0), &response);
  EXPECT_EQ(s.error_code(), grpc::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("deadline passed before the request could start"));
  grpc::ClientContext stream_context;
  with_deadline(stream_context);
  auto reader = h.stub().GenerateStream(&stream_context, GreedyRequest(0));
  ember::v1::GenerateStreamResponse m;
  EXPECT_FALSE(reader->Read(&m));
  s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("not queued"));
  // The server answered (not the client's timer), and the engine never saw the requests.
  EXPECT_EQ(
      Counter(h,
              "ember_rpcs_total{code=\"DEADLINE_EXCEEDED\",method=\"Generate\",protocol=\"grpc\"}"),
      1);
  EXPECT_EQ(Counter(h,
                    "ember_rpcs_total{code=\"DEADLINE_EXCEEDED\",method=\"GenerateStream\","
                    "protocol=\"grpc\"}"),
            1);
  ExpectNothingAdmitted(h, before);
  ExpectStillServing(h);  // no deadline: the clock does not matter
}

// The gRPC port listens before the model loads; until it is loaded and warm every Generation call
// gets UNAVAILABLE, bad ones too (their limits depend on the model), and readiness is NOT_SERVING.
TEST(BadRequestLoadTest, CallsWhileTheModelLoadsGetUnavailable) {
  ServerOptions options = TestServerOptions();
  bool probed = false;
  options.on_listening = [&probed](int port) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    auto stub = ember::v1::Generation::NewStub(channel);
    auto health = grpc::health::v1::Health::NewStub(channel);
    EXPECT_EQ(Health(*health), HealthResponse::NOT_SERVING);
    EXPECT_EQ(Health(*health, "ember.v1.Generation"), HealthResponse::NOT_SERVING);
    EXPECT_EQ(Health(*health, "liveness"), HealthResponse::SERVING);
    ember::v1::GenerateRequest bad = GreedyRequest(0);
    bad.set_max_new_tokens(-1);
    for (const grpc::Status& s : {Unary(*stub, GreedyRequest(0)), Stream(*stub, GreedyRequest(0)),
                                  Unary(*stub, bad), Tokenize(*stub, {}), ListModels(*stub)}) {
      EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
      EXPECT_THAT(s.error_message(), HasSubstr("loading"));
    }
    probed = true;
  };
  ServerHarness h(options);
  EXPECT_TRUE(probed);
  ExpectStillServing(h);
}

// Draining: new calls get UNAVAILABLE (bad ones too), while a stream in flight is written to its
// end, even when its client reads it only after the engine has finished its request.
TEST(BadRequestDrainTest, CallsDuringDrainGetUnavailable) {
  constexpr int kDrainTokens = 240;
  ServerHarness h;
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(50));
  // A client with a small HTTP/2 window and plenty of output (about 100 KB with 20 alternatives
  // per token), so that the stream's last messages wait in the server for the client to read.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto stub = ember::v1::Generation::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(h.server().grpc_port()),
                                grpc::InsecureChannelCredentials(), args));
  ember::v1::GenerateRequest long_request = GreedyRequest(0, kDrainTokens);
  long_request.set_top_logprobs(20);
  grpc::ClientContext stream_context;
  auto reader = stub->GenerateStream(&stream_context, long_request);
  ember::v1::GenerateStreamResponse m;
  ASSERT_TRUE(reader->Read(&m));  // admitted and decoding
  int tokens = m.token_ids_size();
  std::thread shutdown([&] { h.server().Shutdown(); });
  // Readiness flips only after new calls are refused (EmberServer::Shutdown).
  for (int i = 0; i < 500 && Health(h.health()) == HealthResponse::SERVING; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Health(h.health()), HealthResponse::NOT_SERVING);
  ember::v1::GenerateRequest bad = GreedyRequest(0);
  bad.mutable_sampling()->set_top_p(2);
  for (const grpc::Status& s :
       {Unary(h.stub(), GreedyRequest(1)), Stream(h.stub(), GreedyRequest(1)), Unary(h.stub(), bad),
        Tokenize(h.stub(), {}), ListModels(h.stub())}) {
    EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("shutting down"));
  }
  // The engine finishes the request while the client is not reading: the rest of the stream waits
  // in the server, and the drain must still let it be written.
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  for (int i = 0; i < 1000 && h.server().engine().Snapshot().busy; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ember::v1::GenerateStreamResponse last;
  while (reader->Read(&m)) {
    tokens += m.token_ids_size();
    last = m;
  }
  const grpc::Status in_flight = reader->Finish();
  shutdown.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_EQ(tokens, kDrainTokens);
  EXPECT_EQ(last.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
}

}  // namespace
}  // namespace ember::testing
