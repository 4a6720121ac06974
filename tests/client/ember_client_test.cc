// EmberClient's unary calls against the in-process fake server: responses, status mapping,
// deadlines, metadata, health, cancellation of a blocking call, dns:/// targets with round_robin.
#include "client/ember_client.h"

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/channel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_generation_server.h"

namespace ember::client {
namespace {

using ::ember::testing::FakeServer;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

class EmberClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<EmberClient> MakeClient(const ClientOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<EmberClient>> client =
        EmberClient::Create(server_.target(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  static ember::v1::GenerateRequest Request(const std::string& prompt) {
    ember::v1::GenerateRequest request;
    request.set_prompt(prompt);
    return request;
  }

  FakeServer server_;
};

TEST_F(EmberClientTest, GenerateReturnsTheResponse) {
  const auto client = MakeClient();
  EXPECT_EQ(client->target(), server_.target());
  const absl::StatusOr<ember::v1::GenerateResponse> response = client->Generate(Request("hello"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "echo: hello");
  EXPECT_EQ(response->finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(response->usage().generated_tokens(), 3);
  EXPECT_EQ(response->model(), "fake-model");
}

TEST_F(EmberClientTest, ServerStatusKeepsCodeAndMessage) {
  const auto client = MakeClient();
  for (const auto& [name, code] : std::vector<std::pair<std::string, absl::StatusCode>>{
           {"INVALID_ARGUMENT", absl::StatusCode::kInvalidArgument},
           {"NOT_FOUND", absl::StatusCode::kNotFound},
           {"RESOURCE_EXHAUSTED", absl::StatusCode::kResourceExhausted},
           {"UNAVAILABLE", absl::StatusCode::kUnavailable},
           {"UNAUTHENTICATED", absl::StatusCode::kUnauthenticated}}) {
    const absl::Status status =
        client->Generate(Request("error:" + name + ":sampling.top_p is 1.5")).status();
    EXPECT_EQ(status.code(), code) << name;
    EXPECT_EQ(status.message(), "sampling.top_p is 1.5");
  }
}

TEST_F(EmberClientTest, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there, and the connection is refused at once.
  const absl::StatusOr<std::unique_ptr<EmberClient>> client =
      EmberClient::Create("127.0.0.1:1", ClientOptions{});
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Generate(Request("x")).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(EmberClientTest, CallDeadlineMapsToDeadlineExceeded) {
  const auto client = MakeClient();
  CallOptions call;
  call.deadline = absl::Milliseconds(100);
  const absl::Status status = client->Generate(Request("hang"), call).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

TEST_F(EmberClientTest, ClientDefaultDeadlineApplies) {
  ClientOptions options;
  options.default_deadline = absl::Milliseconds(100);
  const auto client = MakeClient(options);
  EXPECT_EQ(client->Generate(Request("hang")).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(EmberClientTest, NegativeCallDeadlineIsRejectedBeforeSending) {
  const auto client = MakeClient();
  CallOptions call;
  call.deadline = absl::Seconds(-1);
  const absl::Status status = client->Generate(Request("x"), call).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("CallOptions.deadline"));
  EXPECT_EQ(server_.service().calls(), 0);
}

TEST_F(EmberClientTest, BearerTokenAndExtraMetadataReachTheServer) {
  ClientOptions options;
  options.bearer_token = "s3cret";
  const auto client = MakeClient(options);
  CallOptions call;
  call.metadata = {{"x-trace-id", "abc123"}};
  ASSERT_TRUE(client->Generate(Request("x"), call).ok());
  EXPECT_THAT(server_.service().last_metadata(), Contains(Pair("authorization", "Bearer s3cret")));
  EXPECT_THAT(server_.service().last_metadata(), Contains(Pair("x-trace-id", "abc123")));

  // Every call carries the token, not only the first.
  ASSERT_TRUE(client->ListModels().ok());
  EXPECT_THAT(server_.service().last_metadata(), Contains(Pair("authorization", "Bearer s3cret")));
}

TEST_F(EmberClientTest, BadMetadataIsRejectedBeforeSending) {
  const auto client = MakeClient();
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"Upper-Case", "v"}, {"grpc-timeout", "1"}, {"", "v"}, {"x-ok", "new\nline"}}) {
    CallOptions call;
    call.metadata = {{key, value}};
    const absl::Status status = client->Generate(Request("x"), call).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_THAT(status.message(), HasSubstr("CallOptions.metadata"));
  }
  EXPECT_EQ(server_.service().calls(), 0);
}

TEST_F(EmberClientTest, TokenizeAndListModels) {
  const auto client = MakeClient();
  ember::v1::TokenizeRequest tokenize;
  tokenize.set_text("hello big world");
  tokenize.set_add_special_tokens(true);
  const absl::StatusOr<ember::v1::TokenizeResponse> tokens = client->Tokenize(tokenize);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_THAT(tokens->token_ids(), ::testing::ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(tokens->tokens(), ::testing::ElementsAre("<s>", "hello", "big", "world"));

  const absl::StatusOr<ember::v1::ListModelsResponse> models = client->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->models_size(), 1);
  EXPECT_EQ(models->models(0).name(), "fake-model");
  EXPECT_EQ(models->default_model(), "fake-model");
}

TEST_F(EmberClientTest, Detokenize) {
  const auto client = MakeClient();
  ember::v1::DetokenizeRequest request;
  for (const int32_t id : {1, 20, 21}) request.add_token_ids(id);
  absl::StatusOr<ember::v1::DetokenizeResponse> response = client->Detokenize(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "<s> t20 t21");
  request.set_skip_special_tokens(true);
  response = client->Detokenize(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "t20 t21");

  request.add_token_ids(-1);
  const absl::Status status = client->Detokenize(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("token_ids[3]"));
}

TEST_F(EmberClientTest, DnsTargetWithRoundRobinReachesTheServer) {
  // "localhost" may resolve to ::1 as well, where nothing listens: round_robin sends calls to the
  // addresses that connect.
  ClientOptions options;
  options.lb_policy = "round_robin";
  const std::string target = absl::StrCat("dns:///localhost:", server_.port());
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = EmberClient::Create(target, options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->target(), target);
  CallOptions call;
  call.deadline = absl::Seconds(20);
  for (int i = 0; i < 3; ++i) {
    const absl::StatusOr<ember::v1::GenerateResponse> response =
        (*client)->Generate(Request(absl::StrCat("rr", i)), call);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->text(), absl::StrCat("echo: rr", i));
  }
  EXPECT_EQ(server_.service().calls(), 3);
}

TEST_F(EmberClientTest, ChannelUsesTheChosenPolicy) {
  for (const char* policy : {"round_robin", "pick_first"}) {
    ClientOptions options;
    options.lb_policy = policy;
    const absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        CreateEmberChannel(absl::StrCat("dns:///localhost:", server_.port()), options);
    ASSERT_TRUE(channel.ok()) << channel.status();
    ASSERT_TRUE(
        (*channel)->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)))
        << policy;
    EXPECT_EQ((*channel)->GetLoadBalancingPolicyName(), policy);
  }
}

TEST_F(EmberClientTest, BadLoadBalancingPolicyIsRefusedBeforeConnecting) {
  ClientOptions options;
  options.lb_policy = "random";
  const absl::Status status =
      EmberClient::Create(absl::StrCat("dns:///localhost:", server_.port()), options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("lb_policy is \"random\""));
  EXPECT_EQ(server_.service().calls(), 0);
}

TEST_F(EmberClientTest, HealthReportsServingAndNotServing) {
  const auto client = MakeClient();
  EXPECT_EQ(client->Health().value(), grpc::health::v1::HealthCheckResponse::SERVING);

  server_.SetServing("ember.v1.Generation", true);
  EXPECT_EQ(client->Health("ember.v1.Generation").value(),
            grpc::health::v1::HealthCheckResponse::SERVING);
  server_.SetServing("ember.v1.Generation", false);
  const absl::StatusOr<ServingStatus> status = client->Health("ember.v1.Generation");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(ServingStatusName(*status), "NOT_SERVING");

  EXPECT_EQ(client->Health("no.such.Service").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EmberClientTest, MaxReceiveMessageSizeIsEnforced) {
  ClientOptions options;
  options.max_receive_message_bytes = 1024;
  const auto client = MakeClient(options);
  EXPECT_TRUE(client->Generate(Request("big:100")).ok());
  EXPECT_EQ(client->Generate(Request("big:5000")).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(EmberClientTest, CancelBlockingCallFromAnotherThread) {
  const auto client = MakeClient();
  CallOptions call;
  call.handle = std::make_shared<CallHandle>();
  std::thread canceller([&] {
    server_.service().blocking_call_started().WaitForNotification();
    call.handle->Cancel();
  });
  const absl::Status status = client->Generate(Request("hang"), call).status();
  canceller.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_THAT(status.message(), HasSubstr("CallHandle::Cancel"));
  EXPECT_TRUE(
      server_.service().cancellation_seen().WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_F(EmberClientTest, HandleCancelledBeforeTheCallNeverReachesTheServer) {
  const auto client = MakeClient();
  CallOptions call;
  call.handle = std::make_shared<CallHandle>();
  call.handle->Cancel();
  EXPECT_TRUE(call.handle->cancelled());
  EXPECT_EQ(client->Generate(Request("x"), call).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(client->Health("", call).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(server_.service().calls(), 0);
}

TEST_F(EmberClientTest, ConcurrentCallsShareOneClient) {
  const auto client = MakeClient();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5 && results[t].ok(); ++i) {
        const auto response = client->Generate(Request(absl::StrCat("t", t, "-", i)));
        results[t] = response.ok() && response->text() == absl::StrCat("echo: t", t, "-", i)
                         ? response.status()
                         : absl::InternalError("wrong or failed response");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : results) EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(server_.service().calls(), kThreads * 5);
}

}  // namespace
}  // namespace ember::client
