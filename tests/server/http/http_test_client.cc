#include "tests/server/http/http_test_client.h"

#include <utility>

#include "httplib.h"

namespace ember::testing {

namespace {

HttpReply ToReply(const httplib::Result& result) {
  HttpReply reply;
  if (!result) return reply;
  reply.status = result->status;
  reply.body = result->body;
  reply.content_type = result->get_header_value("Content-Type");
  reply.json = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.json.is_discarded()) reply.json = nullptr;
  return reply;
}

}  // namespace

HttpTestClient::HttpTestClient(int port, std::string bearer_token)
    : port_(port), bearer_token_(std::move(bearer_token)) {}

HttpReply HttpTestClient::Get(const std::string& path) {
  httplib::Client client("127.0.0.1", port_);
  httplib::Headers headers;
  if (!bearer_token_.empty()) headers.emplace("Authorization", "Bearer " + bearer_token_);
  return ToReply(client.Get(path.c_str(), headers));
}

HttpReply HttpTestClient::Post(const std::string& path, const std::string& body,
                               const std::string& content_type) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(60, 0);
  httplib::Headers headers;
  if (!bearer_token_.empty()) headers.emplace("Authorization", "Bearer " + bearer_token_);
  return ToReply(client.Post(path.c_str(), headers, body, content_type.c_str()));
}

HttpTestClient::Stream HttpTestClient::PostStream(
    const std::string& path, const nlohmann::json& body,
    const std::function<bool(const std::string& data)>& on_event) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(60, 0);
  client.set_tcp_nodelay(true);
  httplib::Request request;
  request.method = "POST";
  request.path = path;
  request.body = body.dump();
  request.set_header("Content-Type", "application/json");
  if (!bearer_token_.empty()) request.set_header("Authorization", "Bearer " + bearer_token_);
  Stream stream;
  size_t parsed = 0;  // bytes of stream.raw already split into events
  request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    stream.raw.append(data, size);
    size_t end;
    while ((end = stream.raw.find("\n\n", parsed)) != std::string::npos) {
      const std::string event = stream.raw.substr(parsed, end - parsed);
      parsed = end + 2;
      if (event.rfind("data: ", 0) != 0) continue;
      stream.events.push_back(event.substr(6));
      if (on_event && !on_event(stream.events.back())) return false;
    }
    return true;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  client.send(request, response, error);
  stream.status = response.status;
  if (stream.raw.empty() && !response.body.empty()) stream.raw = response.body;
  return stream;
}

std::vector<std::string> SseEvents(const std::string& raw) {
  std::vector<std::string> events;
  size_t start = 0;
  size_t end;
  while ((end = raw.find("\n\n", start)) != std::string::npos) {
    const std::string event = raw.substr(start, end - start);
    if (event.rfind("data: ", 0) == 0) events.push_back(event.substr(6));
    start = end + 2;
  }
  return events;
}

}  // namespace ember::testing
