// Fault injection against the real server: storms of calls cancelled in every phase, and
// overload past the waiting queue. After each, the KV cache and queues are back to empty, health
// is SERVING, and a normal request still gets the reference output.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/http_get.h"

namespace ember::testing {
namespace {

void ExpectIdleAndServing(ServerHarness& h) {
  EXPECT_EQ(h.WaitForMetric("ember_kv_cache_blocks_used", 0), 0);
  EXPECT_EQ(h.WaitForMetric("ember_requests_running", 0), 0);
  EXPECT_EQ(h.WaitForMetric("ember_requests_waiting", 0), 0);
  const EngineSnapshot snapshot = h.server().engine().Snapshot();
  EXPECT_EQ(snapshot.kv_blocks_used, 0);
  EXPECT_EQ(snapshot.running, 0);
  EXPECT_EQ(snapshot.waiting, 0);
  grpc::ClientContext hc;
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(h.health().Check(&hc, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  ASSERT_TRUE(h.stub().Generate(&c, GreedyRequest(0), &response).ok());
  EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()),
            ReferenceGreedy(0));
}

// 1,000 streams, each cancelled by its client after reading 0, 1 or 3 messages: some while
// waiting, some in prefill, most while decoding.
TEST(ServerFaultTest, CancelStormLeavesNothingBehind) {
  ServerOptions options = TestServerOptions();
  options.engine.max_waiting = 2048;
  ServerHarness h(options);
  const double cancelled_before =
      MetricValue(h.Metrics(), "ember_requests_total{finish_reason=\"cancelled\"}");
  constexpr int kThreads = 8, kPerThread = 125;
  std::atomic<int> client_cancelled{0}, client_ok{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < kPerThread; ++i) {
        grpc::ClientContext context;
        auto reader = h.stub().GenerateStream(&context, GreedyRequest(i % 3, 40));
        const int reads = std::array<int, 3>{0, 1, 3}[rng() % 3];
        ember::v1::GenerateStreamResponse m;
        for (int r = 0; r < reads && reader->Read(&m); ++r) {
        }
        context.TryCancel();
        while (reader->Read(&m)) {
        }
        const grpc::Status s = reader->Finish();
        if (s.error_code() == grpc::CANCELLED) {
          ++client_cancelled;
        } else if (s.ok()) {
          ++client_ok;  // finished before the cancel landed
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(client_cancelled + client_ok, kThreads * kPerThread);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(client_cancelled.load(), kThreads * kPerThread / 2);
  ExpectIdleAndServing(h);
  // Every cancel the server saw is counted once; calls cancelled before they reached the engine
  // are not requests, so the server's count is at most the client's.
  const double cancelled =
      MetricValue(h.Metrics(), "ember_requests_total{finish_reason=\"cancelled\"}") -
      cancelled_before;
  EXPECT_GT(cancelled, 0);
  EXPECT_LE(cancelled, client_cancelled.load());
  RecordProperty("client_cancelled", client_cancelled.load());
  RecordProperty("server_cancelled", static_cast<int>(cancelled));
}

// Twice the capacity (running + waiting) in one burst: the excess is refused at once with
// RESOURCE_EXHAUSTED, the accepted requests all complete with the reference output.
TEST(ServerFaultTest, OverloadIsRefusedQuicklyAndAcceptedWorkCompletes) {
  ServerOptions options = TestServerOptions();
  options.engine.max_running = 4;
  options.engine.max_waiting = 4;
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  constexpr int kCalls = 16;  // 2 x (max_running + max_waiting)
  std::vector<grpc::Status> status(kCalls);
  std::vector<std::vector<int32_t>> tokens(kCalls);
  std::vector<double> rejection_ms, accepted_ms;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext context;
      ember::v1::GenerateResponse response;
      const auto start = std::chrono::steady_clock::now();
      status[i] = h.stub().Generate(&context, GreedyRequest(i % 3, 12), &response);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      tokens[i].assign(response.token_ids().begin(), response.token_ids().end());
      std::lock_guard<std::mutex> lock(mu);
      if (status[i].error_code() == grpc::RESOURCE_EXHAUSTED) rejection_ms.push_back(ms);
      if (status[i].ok()) accepted_ms.push_back(ms);
    });
  }
  for (std::thread& thread : threads) thread.join();
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  int ok = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (status[i].ok()) {
      ++ok;
      EXPECT_EQ(tokens[i], ReferenceGreedy(i % 3)) << i;
    } else {
      EXPECT_EQ(status[i].error_code(), grpc::RESOURCE_EXHAUSTED) << status[i].error_message();
      EXPECT_THAT(status[i].error_message(), ::testing::HasSubstr("queue is full"));
    }
  }
  // A burst is admitted only through the waiting queue (the loop moves requests to running at its
  // next step), so at least max_waiting are served; how many more depends on how the arrivals
  // interleave with steps. The rest is refused.
  EXPECT_GE(ok, 4);
  ASSERT_FALSE(rejection_ms.empty());
  std::sort(rejection_ms.begin(), rejection_ms.end());
  // Refusals do not wait for the engine: the slowest refusal beats the fastest accepted request
  // (>= 12 steps of 20 ms), on however loaded a machine.
  EXPECT_LT(rejection_ms.back(), *std::min_element(accepted_ms.begin(), accepted_ms.end()))
      << "slowest refusal";
  RecordProperty("rejections", static_cast<int>(rejection_ms.size()));
  RecordProperty("slowest_rejection_ms", std::to_string(rejection_ms.back()));
  ExpectIdleAndServing(h);
}

// Hundreds of idle connections, and a client configured to keepalive-ping far more often than the
// server permits without calls (10 s): neither stops service for anyone. (gRPC's own client
// throttles the pings, so this is not a raw ping flood: a raw HTTP/2 flood needs its own client.)
TEST(ServerFaultTest, IdleConnectionsAndAggressiveKeepaliveDoNotStopService) {
  ServerHarness h;
  const std::string target = "127.0.0.1:" + std::to_string(h.server().grpc_port());
  std::vector<std::shared_ptr<grpc::Channel>> idle;
  for (int i = 0; i < 200; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("ember.test.unique", i);  // a distinct channel (and connection) each
    idle.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    ASSERT_TRUE(
        idle.back()->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)))
        << "connection " << i;
  }
  grpc::ChannelArguments pinging;
  pinging.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20);
  pinging.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 1000);
  pinging.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  pinging.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  pinging.SetInt("ember.test.unique", -1);
  auto flood = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), pinging);
  ASSERT_TRUE(flood->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
  absl::SleepFor(absl::Milliseconds(500));
  // The pinging client is served (after a reconnect if the server sent it GOAWAY); everyone else
  // never noticed.
  auto flood_stub = ember::v1::Generation::NewStub(flood);
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    ember::v1::GenerateResponse response;
    grpc::Status s = flood_stub->Generate(&c, GreedyRequest(0, 2), &response);
    if (s.ok()) break;
    EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
  }
  for (int i = 0; i < 200; i += 50) {
    auto stub = ember::v1::Generation::NewStub(idle[static_cast<size_t>(i)]);
    grpc::ClientContext c;
    ember::v1::GenerateResponse response;
    ASSERT_TRUE(stub->Generate(&c, GreedyRequest(1), &response).ok()) << "idle connection " << i;
    EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()),
              ReferenceGreedy(1));
  }
  ExpectIdleAndServing(h);
}

}  // namespace
}  // namespace ember::testing
