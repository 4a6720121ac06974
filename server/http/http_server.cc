#include "server/http/http_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/util/logging.h"
#include "core/util/status_macros.h"
#include "server/auth.h"
#include "server/http/generation_call.h"
#include "server/http/openai_response.h"
#include "server/server_credentials.h"

namespace ember::http {

namespace {

// How long a client may take to send a request (headers and body), and an idle keep-alive
// connection may stay open.
constexpr time_t kReadTimeoutSeconds = 30;
constexpr time_t kKeepAliveSeconds = 15;

// "host:port" -> host and port; "[::1]:80" for IPv6.
absl::Status SplitAddress(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_address: expected host:port, got \"", address, "\""));
  }
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (host->empty()) *host = "0.0.0.0";
  return absl::OkStatus();
}

// Seconds for cpp-httplib's timeouts: zero or infinite means "never", which it cannot express.
time_t TimeoutSeconds(absl::Duration d) {
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) return 24 * 3600;
  return std::max<time_t>(1, static_cast<time_t>(absl::ToInt64Seconds(d)));
}

}  // namespace

HttpServer::HttpServer(const ServerOptions& options, Metrics* metrics, InFlightCalls* calls)
    : options_(options), metrics_(metrics), calls_(calls) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                              Metrics* metrics,
                                                              InFlightCalls* calls) {
  auto server = std::unique_ptr<HttpServer>(new HttpServer(options, metrics, calls));
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(SplitAddress(options.http_address, &host, &port));
  if (TlsEnabled(options)) {
    auto tls = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str(),
        options.tls_client_ca_file.empty() ? nullptr : options.tls_client_ca_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HTTP API: cannot set up TLS from --tls_cert_file ", options.tls_cert_file,
          " and --tls_key_file ", options.tls_key_file,
          options.tls_client_ca_file.empty() ? "" : " and --tls_client_ca_file ",
          options.tls_client_ca_file, " (unreadable, not PEM, or the key does not match)"));
    }
    server->server_ = std::move(tls);
  } else {
    server->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *server->server_;
  const int threads = std::max(1, options.http_threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(static_cast<size_t>(options.max_receive_message_bytes));
  http.set_read_timeout(kReadTimeoutSeconds, 0);
  // A write blocked this long (a client that stopped reading) fails, and the request is cancelled:
  // the gRPC stream's stall rule.
  http.set_write_timeout(TimeoutSeconds(options.stream_stall_timeout), 0);
  http.set_keep_alive_timeout(kKeepAliveSeconds);
  // Clients (SDKs, benchmarks) reuse a connection for many requests: no reconnect every 5.
  http.set_keep_alive_max_count(100000);
  // Server-sent events are small writes that must leave at once.
  http.set_tcp_nodelay(true);
  // cpp-httplib 0.11 listens with a backlog of 5: sixteen clients connecting at once overflow it
  // and the dropped SYNs come back a second later (TCP's retransmission), which showed as a 1 s
  // time to first token. The listening socket is caught here and listen() called again, with
  // the system's maximum, once bound (Linux takes a new backlog on a listening socket).
  int listen_fd = -1;
  http.set_socket_options([&listen_fd](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  server->Route();
  port = port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (port > 0 && listen_fd >= 0) listen(listen_fd, SOMAXCONN);
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options.http_address,
                                               " (address in use or invalid?)"));
  }
  server->port_ = port;
  server->listener_ = std::thread([s = server.get()] { s->server_->listen_after_bind(); });
  EMBER_LOG(INFO) << "OpenAI-compatible HTTP API on " << options.http_address << " (port " << port
                  << (TlsEnabled(options) ? ", TLS" : ", plaintext")
                  << (options.auth_token.empty() ? "" : ", bearer token required") << ")";
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route() {
  httplib::Server& http = *server_;
  http.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        return Authorized(request, response) ? httplib::Server::HandlerResponse::Unhandled
                                             : httplib::Server::HandlerResponse::Handled;
      });
  http.Post("/v1/completions",
            [this](const httplib::Request& request, httplib::Response& response) {
              HandleGeneration(request, response, Api::kCompletions);
            });
  http.Post("/v1/chat/completions",
            [this](const httplib::Request& request, httplib::Response& response) {
              HandleGeneration(request, response, Api::kChat);
            });
  http.Get("/v1/models", [this](const httplib::Request& request, httplib::Response& response) {
    HandleModels(request, response);
  });
  http.Post("/tokenize", [this](const httplib::Request& request, httplib::Response& response) {
    HandleTokenize(request, response);
  });
  http.Post("/detokenize", [this](const httplib::Request& request, httplib::Response& response) {
    HandleDetokenize(request, response);
  });
  http.Get("/health", [this](const httplib::Request& request, httplib::Response& response) {
    HandleHealth(request, response);
  });
  // What cpp-httplib answers itself (no route, a body over the limit, a malformed request) gets
  // an OpenAI error body too; handlers' own errors already have one.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        absl::Status status;
        switch (response.status) {
          case 404:
            status = absl::NotFoundError(
                absl::StrCat("no such endpoint: ", request.method, " ", request.path,
                             " (ember serves POST /v1/completions, POST /v1/chat/completions, "
                             "GET /v1/models, POST /tokenize, POST /detokenize, GET /health)"));
            break;
          case 413:
            status = absl::InvalidArgumentError(
                "request body: larger than the server's limit "
                "(--max_receive_message_bytes)");
            break;
          default:
            status = absl::InvalidArgumentError(
                absl::StrCat("malformed HTTP request (status ", response.status, ")"));
            break;
        }
        response.set_content(ErrorBody(status), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        EMBER_LOG(ERROR) << "HTTP handler failed: " << what;
        response.status = 500;
        response.set_content(ErrorBody(absl::InternalError(absl::StrCat("internal error: ", what))),
                             "application/json");
      });
}

bool HttpServer::Authorized(const httplib::Request& request, httplib::Response& response) {
  if (options_.auth_token.empty() || request.path == "/health") return true;
  absl::Status refused;
  const size_t count = request.get_header_value_count("Authorization");
  if (count == 0) {
    refused = absl::UnauthenticatedError(
        "missing Authorization header: this server requires \"Authorization: Bearer <token>\"");
  } else if (count > 1) {
    refused = absl::UnauthenticatedError("more than one Authorization header");
  } else {
    // get_header_value returns a copy: keep it alive for the view.
    const std::string header = request.get_header_value("Authorization");
    absl::string_view value = header;
    if (!absl::ConsumePrefix(&value, "Bearer ")) {
      refused = absl::UnauthenticatedError("the Authorization header must be \"Bearer <token>\"");
    } else if (!TokensEqual(value, options_.auth_token)) {
      refused = absl::UnauthenticatedError("invalid bearer token");
    }
  }
  if (refused.ok()) return true;
  response.set_header("WWW-Authenticate", "Bearer");
  ReplyError(request.path.c_str(), refused, response);
  return false;
}

absl::StatusOr<std::shared_ptr<const HttpServer::Serving>> HttpServer::CurrentServing() const {
  absl::MutexLock lock(&mu_);
  if (!accepting_) {
    return absl::UnavailableError("the server is shutting down; retry on another replica");
  }
  if (serving_ == nullptr) return absl::UnavailableError("the model is still loading");
  return serving_;
}

void HttpServer::SetModel(Engine* engine, std::string model_name,
                          absl::StatusOr<chat::ChatTemplate> chat_template) {
  auto serving = std::make_shared<Serving>();
  serving->engine = engine;
  serving->model_name = std::move(model_name);
  serving->chat_template = std::move(chat_template);
  absl::MutexLock lock(&mu_);
  serving_ = std::move(serving);
}

void HttpServer::StopAccepting() {
  absl::MutexLock lock(&mu_);
  accepting_ = false;
}

void HttpServer::Register(GenerationCall* call) {
  absl::MutexLock lock(&mu_);
  open_calls_.insert(call);
}

void HttpServer::Unregister(GenerationCall* call) {
  absl::MutexLock lock(&mu_);
  open_calls_.erase(call);
}

void HttpServer::AbortCalls() {
  absl::MutexLock lock(&mu_);
  for (GenerationCall* call : open_calls_) {
    call->Abort();
    // A handler blocked writing to a client that does not read gets its write failed now.
    if (call->fd() >= 0) shutdown(call->fd(), SHUT_RDWR);
  }
}

void HttpServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    accepting_ = false;
  }
  AbortCalls();
  server_->stop();
  if (listener_.joinable()) listener_.join();
}

void HttpServer::CountCall(const char* method, absl::StatusCode code) {
  if (metrics_ == nullptr) return;
  // Paths are the clients' to choose: only the API's own become label values.
  static constexpr absl::string_view kRoutes[] = {"/v1/completions", "/v1/chat/completions",
                                                  "/v1/models",      "/tokenize",
                                                  "/detokenize",     "/health"};
  const absl::string_view path(method);
  const bool known = std::find(std::begin(kRoutes), std::end(kRoutes), path) != std::end(kRoutes);
  metrics_->OnHttpRequestFinished(known ? std::string(path) : "other", code);
}

void HttpServer::ReplyError(const char* method, const absl::Status& status,
                            httplib::Response& response) {
  response.status = HttpStatusFor(status.code());
  response.set_content(ErrorBody(status), "application/json");
  CountCall(method, status.code());
}

void HttpServer::ReplyJson(const char* method, std::string body, httplib::Response& response) {
  response.status = 200;
  response.set_content(std::move(body), "application/json");
  CountCall(method, absl::StatusCode::kOk);
}

}  // namespace ember::http
