// HttpGet against a one-shot loopback server: a good page, an error status, a server that never
// answers (the timeout), and a closed port.
#include "tools/soak/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember::soak {
namespace {

using ::testing::HasSubstr;

// Listens on an ephemeral loopback port; Serve() answers one connection with `response` (or
// holds it open without answering until the object dies when `response` is empty).
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t length = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
  }
  ~OneShotServer() {
    done_.Notify();
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }

  void Serve(std::string response) {
    thread_ = std::thread([this, response = std::move(response)] {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[4096];
      (void)::recv(client, buffer, sizeof(buffer), 0);
      if (response.empty()) {
        done_.WaitForNotification();
      } else {
        (void)::send(client, response.data(), response.size(), MSG_NOSIGNAL);
      }
      ::close(client);
    });
  }

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Notification done_;
};

TEST(HttpGetTest, ReturnsTheBodyOfA200) {
  OneShotServer server;
  server.Serve("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nember_requests_running 0\n");
  absl::StatusOr<std::string> body =
      HttpGet("127.0.0.1", server.port(), "/metrics", absl::Seconds(5));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "ember_requests_running 0\n");
}

TEST(HttpGetTest, ANon200IsAnErrorNamingTheUrl) {
  OneShotServer server;
  server.Serve("HTTP/1.1 404 Not Found\r\n\r\nnope");
  absl::StatusOr<std::string> body =
      HttpGet("localhost", server.port(), "/metrics", absl::Seconds(5));
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(body.status().message(), HasSubstr("/metrics"));
  EXPECT_THAT(body.status().message(), HasSubstr("404"));
}

TEST(HttpGetTest, ASilentServerTimesOut) {
  OneShotServer server;
  server.Serve("");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> body =
      HttpGet("127.0.0.1", server.port(), "/metrics", absl::Milliseconds(200));
  EXPECT_EQ(body.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(HttpGetTest, AClosedPortIsUnavailable) {
  int port;
  {
    OneShotServer server;  // bound, then closed: nothing listens on the port afterwards
    port = server.port();
  }
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/metrics", absl::Seconds(2)).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ember::soak
