#include "tools/soak/http_get.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ember::soak {
namespace {

// Closes the socket on every return path.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(ms));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path,
                                    absl::Duration timeout) {
  const std::string url = absl::StrCat("http://", host, ":", port, path);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses); rc != 0) {
    return absl::UnavailableError(absl::StrCat(url, ": cannot resolve: ", ::gai_strerror(rc)));
  }
  const absl::Time deadline = absl::Now() + timeout;
  int fd = -1;
  std::string connect_error = "no address";
  for (const addrinfo* a = addresses; a != nullptr && fd < 0; a = a->ai_next) {
    const int candidate =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (candidate < 0) continue;
    if (::connect(candidate, a->ai_addr, a->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && WaitFor(candidate, POLLOUT, deadline))) {
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(candidate, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error == 0) {
        fd = candidate;
        break;
      }
      connect_error = std::strerror(error);
    } else {
      connect_error = errno == EINPROGRESS ? "connect timed out" : std::strerror(errno);
    }
    ::close(candidate);
  }
  ::freeaddrinfo(addresses);
  if (fd < 0) return absl::UnavailableError(absl::StrCat(url, ": ", connect_error));
  const Socket socket(fd);

  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\nConnection: close\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    if (!WaitFor(fd, POLLOUT, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(url, ": timed out sending the request"));
    }
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat(url, ": send: ", std::strerror(errno)));
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[16384];
  for (;;) {
    if (!WaitFor(fd, POLLIN, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(url, ": timed out reading the response"));
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat(url, ": recv: ", std::strerror(errno)));
    }
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t line_end = response.find("\r\n");
  const std::string status_line = response.substr(0, line_end);
  if (!absl::StartsWith(status_line, "HTTP/1.") || !absl::StrContains(status_line, " 200")) {
    return absl::InternalError(
        absl::StrCat(url, ": unexpected response \"", status_line.substr(0, 80), "\""));
  }
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) {
    return absl::InternalError(absl::StrCat(url, ": response without a header end"));
  }
  return response.substr(body + 4);
}

}  // namespace ember::soak
