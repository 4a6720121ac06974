// A small HTTP client for tests of ember's HTTP API: whole requests through cpp-httplib's client,
// streams read event by event, with a way to hang up mid-stream.
#ifndef EMBER_TESTS_SERVER_HTTP_HTTP_TEST_CLIENT_H_
#define EMBER_TESTS_SERVER_HTTP_HTTP_TEST_CLIENT_H_

#include <functional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace ember::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
  std::string content_type;
  nlohmann::json json;  // body parsed, null when not JSON
};

class HttpTestClient {
 public:
  explicit HttpTestClient(int port, std::string bearer_token = "");

  HttpReply Get(const std::string& path);
  HttpReply Post(const std::string& path, const std::string& body,
                 const std::string& content_type = "application/json");
  HttpReply PostJson(const std::string& path, const nlohmann::json& body) {
    return Post(path, body.dump());
  }

  // A streaming POST: each server-sent event's data (the text after "data: ") in order. When
  // `on_event` returns false the client hangs up at once.
  struct Stream {
    int status = 0;
    std::vector<std::string> events;
    std::string raw;
  };
  Stream PostStream(const std::string& path, const nlohmann::json& body,
                    const std::function<bool(const std::string& data)>& on_event = nullptr);

 private:
  int port_;
  std::string bearer_token_;
};

// The data of each "data: ..." event of a server-sent event stream.
std::vector<std::string> SseEvents(const std::string& raw);

}  // namespace ember::testing

#endif  // EMBER_TESTS_SERVER_HTTP_HTTP_TEST_CLIENT_H_
