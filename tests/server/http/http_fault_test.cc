// The HTTP API's slow-reader bounds, as the gRPC stream's (server_stream_fault_test.cc): a client
// that stops reading has its request cancelled once the output waiting for it passes
// --max_stream_buffer_bytes, or once a write has been blocked for --stream_stall_timeout_seconds;
// either way its KV blocks are freed long before the request would have ended, and the server
// keeps serving everyone else.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/server/http/http_test_client.h"
#include "tests/server/server_test_fixture.h"

namespace ember::testing {
namespace {

const std::string kSlowReaders = "ember_slow_reader_cancellations_total";
const std::string kCancelled = "ember_requests_total{finish_reason=\"cancelled\"}";

// Opens a connection with a 4 KiB receive buffer (set before connect, so the window stays small),
// sends a streaming completion of 240 tokens each carrying 20 alternatives (~500 bytes an event),
// and never reads. Returns the socket (the caller closes it).
int StartStalledStream(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const nlohmann::json body = {{"prompt", ReferencePrompt(0)},
                               {"max_tokens", 240},
                               {"ignore_eos", true},
                               {"temperature", 0},
                               {"logprobs", 20},
                               {"stream", true}};
  const std::string text = body.dump();
  const std::string request = absl::StrCat(
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: ",
      text.size(), "\r\n\r\n", text);
  EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  return fd;
}

// Waits until the engine is idle; returns how long that took.
absl::Duration WaitIdle(ServerHarness& h, absl::Duration limit) {
  const absl::Time start = absl::Now();
  while (h.server().engine().Snapshot().busy && absl::Now() - start < limit) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::Now() - start;
}

TEST(HttpFaultTest, StalledReaderIsCancelledAtTheBufferCap) {
  ServerOptions options = TestServerOptions();
  options.http_address = "127.0.0.1:0";
  options.max_stream_buffer_bytes = 16 << 10;
  // The kernel's buffer would otherwise grow to megabytes on loopback and take the whole output.
  options.http_send_buffer_bytes = 16 << 10;
  ServerHarness h(options);
  // 240 tokens take at least 4.8 s: the cap is reached long before.
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  const int fd = StartStalledStream(h.server().http_port());
  absl::SleepFor(absl::Milliseconds(100));
  // Others keep being served meanwhile.
  HttpReply other = HttpTestClient(h.server().http_port())
                        .PostJson("/v1/completions", {{"prompt", "x"}, {"max_tokens", 4}});
  EXPECT_EQ(other.status, 200) << other.body;
  const absl::Duration idle = WaitIdle(h, absl::Seconds(10));
  EXPECT_LT(idle, absl::Seconds(4)) << "the stalled request ran on";
  EXPECT_EQ(h.WaitForMetric(kSlowReaders, 1), 1);
  EXPECT_EQ(h.WaitForMetric(kCancelled, 1), 1);
  close(fd);
  EXPECT_EQ(h.WaitForMetric("ember_stream_buffered_bytes", 0), 0);
}

TEST(HttpFaultTest, StalledReaderIsCancelledAfterTheStallTimeout) {
  ServerOptions options = TestServerOptions();
  options.http_address = "127.0.0.1:0";
  options.stream_stall_timeout = absl::Seconds(1);  // the cap (1 MiB) is never reached
  options.http_send_buffer_bytes = 16 << 10;
  ServerHarness h(options);
  // 240 tokens take at least 4.8 s: writes stop completing after about 80, then 1 s more.
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  const int fd = StartStalledStream(h.server().http_port());
  const absl::Duration idle = WaitIdle(h, absl::Seconds(10));
  EXPECT_LT(idle, absl::Seconds(4)) << "the stalled request was not cut off";
  EXPECT_EQ(h.WaitForMetric(kCancelled, 1), 1);
  EXPECT_EQ(h.WaitForMetric(kSlowReaders, 1), 1);
  close(fd);
  EXPECT_EQ(HttpTestClient(h.server().http_port())
                .PostJson("/v1/completions", {{"prompt", "x"}, {"max_tokens", 4}})
                .status,
            200);
}

}  // namespace
}  // namespace ember::testing
