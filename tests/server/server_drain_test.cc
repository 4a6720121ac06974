// The drain (EmberServer::Shutdown) against the real server in-process: streams cut at the end of
// the grace still get their final message, the drain waits for work and not for open health
// Watches, and calls arriving at any moment of it get UNAVAILABLE, never CANCELLED.
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/server/fault_test_util.h"
#include "tests/server/server_test_fixture.h"

namespace ember::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Health = grpc::health::v1::HealthCheckResponse;

// Four long streams (two decoding, two waiting) when a 300 ms grace starts: none can finish, so
// each is cancelled through the engine at the grace. Each still gets a last message with finish
// reason CANCELLED and its usage and timings, then status UNAVAILABLE naming the drain; no token
// the server generated is lost.
TEST(ServerDrainTest, StreamsCutAtTheGraceGetTheirFinalMessage) {
  ServerOptions options = TestServerOptions();
  options.drain_grace = absl::Milliseconds(300);
  options.engine.max_running = 2;
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  constexpr int kStreams = 4;
  struct Outcome {
    grpc::Status status;
    int64_t tokens = 0;
    ember::v1::GenerateStreamResponse last;
  };
  std::vector<Outcome> outcomes(kStreams);
  std::atomic<int> started{0};
  std::vector<std::thread> streams;
  for (int k = 0; k < kStreams; ++k) {
    streams.emplace_back([&, k] {
      grpc::ClientContext context;
      auto reader =
          h.stub().GenerateStream(&context, GreedyRequest(static_cast<size_t>(k % 3), 200));
      ember::v1::GenerateStreamResponse m;
      bool first = true;
      while (reader->Read(&m)) {
        if (first) ++started;
        first = false;
        outcomes[k].tokens += m.token_ids_size();
        outcomes[k].last = m;
      }
      outcomes[k].status = reader->Finish();
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return started.load() >= 2; }));
  h.server().Shutdown();
  for (std::thread& t : streams) t.join();
  for (int k = 0; k < kStreams; ++k) {
    const Outcome& o = outcomes[k];
    EXPECT_EQ(o.status.error_code(), grpc::UNAVAILABLE) << k << ": " << o.status.error_message();
    EXPECT_THAT(o.status.error_message(), ::testing::HasSubstr("drain grace")) << k;
    EXPECT_EQ(o.last.finish_reason(), ember::v1::FINISH_REASON_CANCELLED) << k;
    EXPECT_LT(o.tokens, 200) << k;
    EXPECT_EQ(o.last.usage().generated_tokens(), o.tokens) << k << ": tokens lost";
    EXPECT_GT(o.last.usage().prompt_tokens(), 0) << k;
    EXPECT_TRUE(o.last.has_timings()) << k;
  }
}

// Nothing in flight but a client watching health and a few idle connections: the drain ends as
// soon as the (long) grace is no longer needed. The Watch sees NOT_SERVING, then ends.
TEST(ServerDrainTest, HealthWatchAndIdleConnectionsDoNotHoldTheDrain) {
  ServerOptions options = TestServerOptions();
  options.drain_grace = absl::Seconds(60);
  ServerHarness h(options);
  const std::string target = "127.0.0.1:" + std::to_string(h.server().grpc_port());
  std::vector<std::shared_ptr<grpc::Channel>> idle;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("ember.test.unique", i);  // a distinct connection each
    idle.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    ASSERT_TRUE(
        idle.back()->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
  }
  grpc::ClientContext watch_context;
  grpc::health::v1::HealthCheckRequest watch_request;
  auto watch = h.health().Watch(&watch_context, watch_request);
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), Health::SERVING);
  // A request that completes inside the grace: the drain waits for it, then no longer.
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  std::atomic<bool> answered{false};
  std::thread request([&] {
    EXPECT_TRUE(h.stub().Generate(&c, GreedyRequest(0, 8), &response).ok());
    answered = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return h.server().engine().Snapshot().busy || answered.load(); }));
  const auto start = SteadyClock::now();
  h.server().Shutdown();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  request.join();
  EXPECT_EQ(response.token_ids_size(), 8);
  EXPECT_LT(seconds, 5) << "the drain waited on the Watch or the idle connections";
  std::vector<Health::ServingStatus> seen;
  while (watch->Read(&update)) seen.push_back(update.status());
  EXPECT_THAT(seen, ::testing::Contains(Health::NOT_SERVING));
  watch->Finish();  // ended by the server (any status): it no longer holds anything
  std::cout << "drain with a Watch and 4 idle connections took " << seconds << " s\n";
  RecordProperty("drain_seconds", std::to_string(seconds));
}

// Unary calls sent back to back on their own connections through the whole drain (with a Watch
// open, so the drain's last stage has something to cancel, and a stream that outlives the grace):
// each gets OK (before the drain) or UNAVAILABLE (during the grace, while gRPC shuts down, and
// after the server is gone). The one exception is gRPC 1.51's own: a call still queued inside
// gRPC's core, not yet handed to ember, at the instant the gRPC server shuts down is reset
// (CANCELLED). That instant comes after the grace; the test allows it there, and only a few times
// in the tens of thousands of calls the loop sends.
TEST(ServerDrainTest, CallsDuringEveryPartOfTheDrainGetUnavailable) {
  ServerOptions options = TestServerOptions();
  options.drain_grace = absl::Milliseconds(500);
  ServerHarness h(options);
  const std::string target = "127.0.0.1:" + std::to_string(h.server().grpc_port());
  grpc::ClientContext watch_context;
  auto watch = h.health().Watch(&watch_context, grpc::health::v1::HealthCheckRequest());
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  grpc::ClientContext stream_context;
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(5));
  auto stream = h.stub().GenerateStream(&stream_context, GreedyRequest(1, 200));
  ember::v1::GenerateStreamResponse m;
  ASSERT_TRUE(stream->Read(&m));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, unavailable{0};
  std::mutex mu;
  std::vector<double> cancelled_at;  // seconds since the drain started
  std::vector<std::string> other;
  std::atomic<bool> draining{false};
  SteadyClock::time_point drain_start;
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt("ember.test.unique", 100 + t);
      auto stub = ember::v1::Generation::NewStub(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
      while (!stop.load()) {
        grpc::ClientContext c;
        c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        grpc::Status s;
        if (t == 0) {
          ember::v1::TokenizeRequest tokenize;
          tokenize.set_text("Hello");
          ember::v1::TokenizeResponse tokens;
          s = stub->Tokenize(&c, tokenize, &tokens);
        } else {
          ember::v1::GenerateResponse r;
          s = stub->Generate(&c, GreedyRequest(0, 1), &r);
        }
        if (s.ok()) {
          ++ok;
        } else if (s.error_code() == grpc::UNAVAILABLE) {
          ++unavailable;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          if (s.error_code() == grpc::CANCELLED && draining.load()) {
            cancelled_at.push_back(
                std::chrono::duration<double>(SteadyClock::now() - drain_start).count());
          } else {
            other.push_back(std::to_string(s.error_code()) + " " + s.error_message());
          }
        }
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return ok.load() >= 4; }));
  drain_start = SteadyClock::now();
  draining = true;
  h.server().Shutdown();
  const double shutdown_seconds =
      std::chrono::duration<double>(SteadyClock::now() - drain_start).count();
  absl::SleepFor(absl::Milliseconds(200));  // and calls after the server is gone
  stop = true;
  for (std::thread& t : callers) t.join();
  while (stream->Read(&m)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::UNAVAILABLE);
  while (watch->Read(&update)) {
  }
  watch->Finish();
  EXPECT_THAT(other, ::testing::IsEmpty());
  EXPECT_GT(unavailable.load(), 0);
  // The reset calls are those in flight during the few milliseconds between gRPC marking its
  // server shut down and its GOAWAY reaching the client: 0-2 here in a release build (one per
  // caller at most, all within 15 ms of the grace's end), but under ASan each call is slower to
  // leave gRPC's core and CI once saw 7. The bound is on that instant, not on the whole drain.
  EXPECT_LE(cancelled_at.size(), 16u);
  for (double at : cancelled_at) {
    EXPECT_GE(at, 0.45) << "CANCELLED during the grace (the drain took " << shutdown_seconds
                        << " s)";
    EXPECT_LE(at, shutdown_seconds + 0.05) << "CANCELLED after the server was gone";
  }
  std::cout << ok.load() << " calls OK before the drain, " << unavailable.load()
            << " UNAVAILABLE during and after it, " << cancelled_at.size()
            << " reset by gRPC's shutdown (drain took " << shutdown_seconds << " s)\n";
  RecordProperty("reset_by_grpc_shutdown", static_cast<int>(cancelled_at.size()));
}

}  // namespace
}  // namespace ember::testing
