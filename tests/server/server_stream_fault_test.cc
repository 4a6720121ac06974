// Streams whose client stops reading, against the real server: the server's buffer for such a
// stream stays under --max_stream_buffer_bytes, the stream ends with a clear status (or is reset
// after --stream_stall_timeout_seconds when the client never reads again), the slow-reader
// counter moves, the request's KV blocks are freed, and other streams keep their pace.
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/server/fault_test_util.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/http_get.h"

namespace ember::testing {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kSlowReaders = "ember_slow_reader_cancellations_total";
const std::string kBuffered = "ember_stream_buffered_bytes";
// Buffered output only a stalled stream reaches: a reading stream holds a message or two of a few
// dozen bytes (the gauge sums all streams).
constexpr double kStalledBytes = 2 << 10;

double Metric(ServerHarness& h, const std::string& series) {
  const double v = MetricValue(h.Metrics(), series);
  return std::isnan(v) ? 0 : v;
}

// A request whose every token carries 20 alternatives (~400 bytes a message), so a stalled
// stream's output quickly outgrows the client's flow-control window and the server's cap.
ember::v1::GenerateRequest BulkyRequest() {
  ember::v1::GenerateRequest r = GreedyRequest(0, 240);
  r.set_top_logprobs(20);
  return r;
}

// A client that reads nothing: its own connection, with a small receive window (no BDP probing
// to grow it), so the server's writes stop completing soon after the stream starts.
std::unique_ptr<ember::v1::Generation::Stub> StalledStub(ServerHarness& h) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 << 10);
  args.SetInt("ember.test.stalled", 1);  // never share the connection of the normal streams
  return ember::v1::Generation::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(h.server().grpc_port()),
                                grpc::InsecureChannelCredentials(), args));
}

// Streams `n` normal requests at once, reading as fast as they can; returns every inter-token
// gap in milliseconds (a message of k coalesced tokens counts its gap / k, k times) and checks
// each stream's output.
std::vector<double> NormalStreamGaps(ServerHarness& h, int n) {
  std::vector<std::vector<double>> gaps(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int k = 0; k < n; ++k) {
    threads.emplace_back([&, k] {
      grpc::ClientContext context;
      auto reader =
          h.stub().GenerateStream(&context, GreedyRequest(static_cast<size_t>(k % 3), 60));
      ember::v1::GenerateStreamResponse m;
      std::vector<int32_t> tokens;
      std::optional<Clock::time_point> last;
      while (reader->Read(&m)) {
        const Clock::time_point now = Clock::now();
        if (last.has_value() && m.token_ids_size() > 0) {
          const double ms = std::chrono::duration<double, std::milli>(now - *last).count();
          for (int t = 0; t < m.token_ids_size(); ++t) {
            gaps[static_cast<size_t>(k)].push_back(ms / m.token_ids_size());
          }
        }
        if (m.token_ids_size() > 0) last = now;
        tokens.insert(tokens.end(), m.token_ids().begin(), m.token_ids().end());
      }
      EXPECT_TRUE(reader->Finish().ok());
      const std::vector<int32_t> reference = ReferenceGreedy(static_cast<size_t>(k % 3));
      ASSERT_EQ(tokens.size(), 60u);
      EXPECT_EQ(std::vector<int32_t>(tokens.begin(), tokens.begin() + reference.size()), reference);
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<double> all;
  for (const auto& g : gaps) all.insert(all.end(), g.begin(), g.end());
  return all;
}

// Samples the buffered-bytes gauge until stopped; keeps the maximum.
class BufferSampler {
 public:
  explicit BufferSampler(ServerHarness& h)
      : thread_([this, &h] {
          while (!stop_.load()) {
            max_ = std::max(max_.load(), Metric(h, kBuffered));
            absl::SleepFor(absl::Milliseconds(2));
          }
        }) {}
  double Stop() {
    stop_ = true;
    thread_.join();
    return max_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<double> max_{0};
  std::thread thread_;
};

TEST(ServerStreamFaultTest, StalledReaderIsCutOffAtTheCapAndOthersKeepTheirPace) {
  constexpr int64_t kCap = 16 << 10;
  // One event's message (a token with 20 alternatives) plus the final one's usage and timings:
  // what may sit on top of the cap when it trips (and the other streams' few dozen bytes).
  constexpr int64_t kSlack = 1 << 10;
  ServerOptions options = TestServerOptions();
  options.max_stream_buffer_bytes = kCap;
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(10));

  // Without a stalled reader.
  const std::vector<double> alone = NormalStreamGaps(h, 3);

  // With one: started first, and seen stalled (output piling up in the server, still under the
  // cap, so its request is still running) before the others start.
  const double slow0 = Metric(h, kSlowReaders);
  BufferSampler sampler(h);
  auto stalled_stub = StalledStub(h);
  grpc::ClientContext stalled_context;
  auto stalled = stalled_stub->GenerateStream(&stalled_context, BulkyRequest());
  ASSERT_TRUE(WaitUntil([&] { return Metric(h, kBuffered) > kStalledBytes; }))
      << "the stream never stalled";
  EXPECT_EQ(Metric(h, kSlowReaders), slow0) << "cut off before the other streams started";
  const std::vector<double> beside_stalled = NormalStreamGaps(h, 3);

  // The cap trips: the request is cancelled and its blocks freed, though the client reads nothing.
  ASSERT_TRUE(WaitUntil([&] { return Metric(h, kSlowReaders) == slow0 + 1; }));
  EXPECT_TRUE(WaitUntil([&] {
    const EngineSnapshot s = h.server().engine().Snapshot();
    return s.kv_blocks_used == 0 && s.running == 0 && s.waiting == 0;
  }));
  const double held = Metric(h, kBuffered);
  const double max_held = sampler.Stop();
  EXPECT_GT(held, 0);
  EXPECT_LE(max_held, kCap + kSlack);

  // The client reads again: it gets what was held, then the reason.
  ember::v1::GenerateStreamResponse m;
  int tokens = 0;
  while (stalled->Read(&m)) tokens += m.token_ids_size();
  const grpc::Status status = stalled->Finish();
  EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("--max_stream_buffer_bytes"));
  EXPECT_GT(tokens, 0);
  EXPECT_LT(tokens, 240);
  EXPECT_TRUE(WaitUntil([&] { return Metric(h, kBuffered) == 0; }));

  // Others' pace: the median inter-token latency beside the stalled stream is within 1.5x (+5 ms
  // for a shared machine's noise) of the median without it.
  const double median_alone = Percentile(alone, 50);
  const double median_beside = Percentile(beside_stalled, 50);
  std::cout << "inter-token latency median: " << median_alone << " ms alone, " << median_beside
            << " ms beside a stalled reader; stalled stream held at most " << max_held
            << " bytes (cap " << kCap << "), its client got " << tokens << " tokens\n";
  RecordProperty("itl_median_ms_alone", std::to_string(median_alone));
  RecordProperty("itl_median_ms_beside_stalled", std::to_string(median_beside));
  RecordProperty("stalled_stream_max_buffered_bytes", static_cast<int>(max_held));
  EXPECT_LE(median_beside, 1.5 * median_alone + 5.0);
}

// A client that never reads again, on a stream whose output stays under the byte cap: after the
// stall timeout its request is cancelled while still generating, and once that has ended the call
// is reset, freeing it and its buffer. Counted once as a slow reader.
TEST(ServerStreamFaultTest, StalledReaderIsCutOffAndResetAfterTheStallTimeout) {
  ServerOptions options = TestServerOptions();
  options.stream_stall_timeout = absl::Seconds(1);  // the cap (1 MiB) is never reached
  ServerHarness h(options);
  // 240 tokens take >= 2.4 s: the stall (about 1 s after the writes stop) comes first.
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(10));
  const double slow0 = Metric(h, kSlowReaders);
  const std::string cancelled = "ember_requests_total{finish_reason=\"cancelled\"}";
  const double cancelled0 = Metric(h, cancelled);
  const std::string reset =
      "ember_rpcs_total{code=\"CANCELLED\",method=\"GenerateStream\",protocol=\"grpc\"}";
  const double reset0 = Metric(h, reset);
  auto stalled_stub = StalledStub(h);
  grpc::ClientContext stalled_context;
  auto stalled = stalled_stub->GenerateStream(&stalled_context, BulkyRequest());
  ASSERT_TRUE(WaitUntil([&] { return Metric(h, kBuffered) > kStalledBytes; }))
      << "the stream never stalled";
  ASSERT_TRUE(WaitUntil([&] { return Metric(h, cancelled) == cancelled0 + 1; }))
      << "the stalled request was not cancelled";
  EXPECT_EQ(Metric(h, kSlowReaders), slow0 + 1);
  EXPECT_TRUE(WaitUntil([&] {
    const EngineSnapshot s = h.server().engine().Snapshot();
    return s.kv_blocks_used == 0 && s.running == 0;
  }));
  ASSERT_TRUE(WaitUntil([&] { return Metric(h, reset) == reset0 + 1; })) << "never reset";
  EXPECT_EQ(Metric(h, kSlowReaders), slow0 + 1);
  EXPECT_TRUE(WaitUntil([&] { return Metric(h, kBuffered) == 0; }));
  ember::v1::GenerateStreamResponse m;
  while (stalled->Read(&m)) {
  }
  EXPECT_EQ(stalled->Finish().error_code(), grpc::CANCELLED);
  // Still serving.
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  ASSERT_TRUE(h.stub().Generate(&c, GreedyRequest(1), &response).ok());
  EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()),
            ReferenceGreedy(1));
}

// The GenerateStream RPCs the server has finished, whatever their status.
double StreamsEnded(ServerHarness& h) {
  const std::string text = h.Metrics();
  double sum = 0;
  for (const char* code :
       {"OK", "CANCELLED", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "UNAVAILABLE", "INTERNAL"}) {
    const double v = MetricValue(text, std::string("ember_rpcs_total{code=\"") + code +
                                           "\",method=\"GenerateStream\",protocol=\"grpc\"}");
    if (!std::isnan(v)) sum += v;
  }
  return sum;
}

// Many stalled streams at once; half of their clients cancel at staggered moments (racing the
// cap, the stall timeout and the reset), the other half never read until the server has ended
// every call, which only the reset can do for them. Nothing stays buffered or in the cache.
TEST(ServerStreamFaultTest, ManyStalledStreamsRacingCancelsLeaveNothingBehind) {
  ServerOptions options = TestServerOptions();
  options.max_stream_buffer_bytes = 4 << 10;
  options.stream_stall_timeout = absl::Milliseconds(300);
  options.engine.max_running = 16;
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(2));
  constexpr int kStreams = 32;
  const double ended0 = StreamsEnded(h);
  std::vector<std::unique_ptr<ember::v1::Generation::Stub>> stubs;
  for (int c = 0; c < 4; ++c) stubs.push_back(StalledStub(h));
  absl::Notification all_ended;
  std::vector<grpc::StatusCode> codes(kStreams);
  std::vector<std::thread> clients;
  for (int k = 0; k < kStreams; ++k) {
    clients.emplace_back([&, k] {
      grpc::ClientContext context;
      auto reader = stubs[static_cast<size_t>(k % 4)]->GenerateStream(&context, BulkyRequest());
      if (k % 2 == 1) {
        absl::SleepFor(absl::Milliseconds(25 * (k % 16)));  // 25..375 ms: before and after 300
        context.TryCancel();
      } else {
        all_ended.WaitForNotificationWithTimeout(absl::Seconds(60));
      }
      ember::v1::GenerateStreamResponse m;
      while (reader->Read(&m)) {
      }
      codes[static_cast<size_t>(k)] = reader->Finish().error_code();
    });
  }
  EXPECT_TRUE(WaitUntil([&] { return StreamsEnded(h) - ended0 == kStreams; }))
      << StreamsEnded(h) - ended0 << " of " << kStreams << " calls ended";
  all_ended.Notify();
  for (std::thread& t : clients) t.join();
  for (int k = 0; k < kStreams; ++k) {
    EXPECT_EQ(codes[static_cast<size_t>(k)], grpc::CANCELLED) << k;  // reset, or by the client
  }
  EXPECT_TRUE(WaitUntil([&] { return Metric(h, kBuffered) == 0; })) << Metric(h, kBuffered);
  EXPECT_TRUE(WaitUntil([&] {
    const EngineSnapshot s = h.server().engine().Snapshot();
    return s.kv_blocks_used == 0 && s.running == 0 && s.waiting == 0;
  }));
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  ASSERT_TRUE(h.stub().Generate(&c, GreedyRequest(1), &response).ok());
  EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()),
            ReferenceGreedy(1));
}

}  // namespace
}  // namespace ember::testing
