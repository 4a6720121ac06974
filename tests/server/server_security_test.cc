// TLS, mutual TLS and bearer-token auth against the real server, through ember's own client
// library, with certificates made by openssl at test time.
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/ember_client.h"
#include "core/util/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/temp_dir.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
class Certificates {
 public:
  Certificates() {
    const std::string d = dir_.path();
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    dir_.Write("server.ext", "subjectAltName=IP:127.0.0.1\n");
    const std::string script = absl::StrCat(
        "set -e; cd '", d, "'; ", "openssl req -x509 ", ec,
        " -keyout ca.key -out ca.pem -days 1 -subj /CN=ember-test-ca; ", "openssl req ", ec,
        " -keyout server.key -out server.csr -subj /CN=127.0.0.1; ",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
        "-out server.pem -days 1 -extfile server.ext; ", "openssl req ", ec,
        " -keyout client.key -out client.csr -subj /CN=ember-test-client; ",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
        "-out client.pem -days 1; ",
        // Another CA, whose certificates the server must refuse.
        "openssl req -x509 ", ec, " -keyout other.key -out other.pem -days 1 -subj /CN=other");
    ok_ = std::system(
              ("bash -c \"" + script + "\" >'" + dir_.File("openssl.log") + "' 2>&1").c_str()) == 0;
  }
  bool ok() const { return ok_; }
  // What openssl printed (for the failure message).
  std::string Log() const { return ReadFileToString(File("openssl.log")).value_or(""); }
  std::string File(const char* name) const { return dir_.File(name); }
  std::string Read(const char* name) const {
    absl::StatusOr<std::string> text = ReadFileToString(File(name));
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

 private:
  TempDir dir_;
  bool ok_ = false;
};

const Certificates& Certs() {
  static const Certificates* certs = new Certificates();
  return *certs;
}

std::unique_ptr<client::EmberClient> Client(int port, const client::ClientOptions& options) {
  auto c = client::EmberClient::Create(absl::StrCat("127.0.0.1:", port), options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

client::ClientOptions TlsClient() {
  client::ClientOptions o;
  o.tls = true;
  o.tls_root_certs_pem = Certs().Read("ca.pem");
  o.default_deadline = absl::Seconds(20);
  return o;
}

std::vector<int32_t> GreedyIds(const client::EmberClient& c, absl::Status* status) {
  auto r = c.Generate(GreedyRequest(0));
  *status = r.status();
  if (!r.ok()) return {};
  return {r->token_ids().begin(), r->token_ids().end()};
}

TEST(ServerSecurityTest, TlsServesTlsClientsAndRefusesPlaintext) {
  ASSERT_TRUE(Certs().ok()) << "openssl failed:\n" << Certs().Log();
  ServerOptions options = TestServerOptions();
  options.tls_cert_file = Certs().File("server.pem");
  options.tls_key_file = Certs().File("server.key");
  auto server = EmberServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->grpc_port();

  absl::Status s;
  EXPECT_EQ(GreedyIds(*Client(port, TlsClient()), &s), ReferenceGreedy(0));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(*Client(port, TlsClient())->Health(), grpc::health::v1::HealthCheckResponse::SERVING);

  client::ClientOptions plaintext;
  plaintext.default_deadline = absl::Seconds(5);
  (void)GreedyIds(*Client(port, plaintext), &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;

  client::ClientOptions wrong_ca = TlsClient();
  wrong_ca.tls_root_certs_pem = Certs().Read("other.pem");
  wrong_ca.default_deadline = absl::Seconds(5);
  (void)GreedyIds(*Client(port, wrong_ca), &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  (*server)->Shutdown();
}

TEST(ServerSecurityTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  ASSERT_TRUE(Certs().ok()) << Certs().Log();
  ServerOptions options = TestServerOptions();
  options.tls_cert_file = Certs().File("server.pem");
  options.tls_key_file = Certs().File("server.key");
  options.tls_client_ca_file = Certs().File("ca.pem");
  auto server = EmberServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->grpc_port();

  absl::Status s;
  client::ClientOptions no_cert = TlsClient();
  no_cert.default_deadline = absl::Seconds(5);
  (void)GreedyIds(*Client(port, no_cert), &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;

  client::ClientOptions foreign = TlsClient();
  foreign.tls_client_cert_pem = Certs().Read("other.pem");
  foreign.tls_client_key_pem = Certs().Read("other.key");
  foreign.default_deadline = absl::Seconds(5);
  (void)GreedyIds(*Client(port, foreign), &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;

  client::ClientOptions with_cert = TlsClient();
  with_cert.tls_client_cert_pem = Certs().Read("client.pem");
  with_cert.tls_client_key_pem = Certs().Read("client.key");
  EXPECT_EQ(GreedyIds(*Client(port, with_cert), &s), ReferenceGreedy(0));
  EXPECT_TRUE(s.ok()) << s;
  (*server)->Shutdown();
}

// The HTTP API (--http_address) serves HTTPS with the gRPC port's certificate, and requires client
// certificates from the same CA when the gRPC port does.
// A greedy completion over HTTPS; the HTTP status, or 0 when the connection or handshake failed.
int HttpsCompletion(int port, const char* client_cert = nullptr, const char* client_key = nullptr,
                    std::string* text = nullptr) {
  httplib::SSLClient client("127.0.0.1", port, client_cert ? Certs().File(client_cert) : "",
                            client_key ? Certs().File(client_key) : "");
  client.set_ca_cert_path(Certs().File("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(5, 0);
  const nlohmann::json body = {
      {"prompt", ReferencePrompt(0)}, {"max_tokens", 8}, {"temperature", 0}, {"ignore_eos", true}};
  httplib::Result r = client.Post("/v1/completions", body.dump(), "application/json");
  if (!r) return 0;
  if (text != nullptr) *text = r->body;
  return r->status;
}

TEST(ServerSecurityTest, HttpApiServesHttpsWithTheSameCertificates) {
  ASSERT_TRUE(Certs().ok()) << Certs().Log();
  ServerOptions options = TestServerOptions();
  options.tls_cert_file = Certs().File("server.pem");
  options.tls_key_file = Certs().File("server.key");
  options.http_address = "127.0.0.1:0";
  auto server = EmberServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->http_port();
  std::string text;
  EXPECT_EQ(HttpsCompletion(port, nullptr, nullptr, &text), 200) << text;
  EXPECT_THAT(text, HasSubstr("\"completion_tokens\":8"));
  // A client that hangs up mid-stream over TLS has its request cancelled (the socket is found
  // through the TLS session).
  (*server)->engine().SetStepDelayForTesting(absl::Milliseconds(5));
  {
    httplib::SSLClient client("127.0.0.1", port);
    client.set_ca_cert_path(Certs().File("ca.pem").c_str());
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/completions";
    request.body =
        nlohmann::json{{"prompt", "x"}, {"max_tokens", 200}, {"ignore_eos", true}, {"stream", true}}
            .dump();
    request.set_header("Content-Type", "application/json");
    int chunks = 0;
    request.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      return ++chunks < 3;
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    client.send(request, response, error);
    EXPECT_EQ(chunks, 3);
  }
  const absl::Time hung_up = absl::Now();
  while ((*server)->engine().Snapshot().busy && absl::Now() - hung_up < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_LT(absl::Now() - hung_up, absl::Milliseconds(500)) << "200 tokens take >= 1 s";
  (*server)->engine().SetStepDelayForTesting(absl::ZeroDuration());
  // Plaintext HTTP to the HTTPS port gets no answer.
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(5, 0);
  httplib::Result r = plain.Get("/health");
  EXPECT_TRUE(!r || r->status >= 400);
  (*server)->Shutdown();

  options.tls_client_ca_file = Certs().File("ca.pem");
  auto mutual = EmberServer::Start(options);
  ASSERT_TRUE(mutual.ok()) << mutual.status();
  const int mutual_port = (*mutual)->http_port();
  EXPECT_EQ(HttpsCompletion(mutual_port), 0) << "no client certificate";
  EXPECT_EQ(HttpsCompletion(mutual_port, "other.pem", "other.key"), 0) << "a foreign CA's";
  EXPECT_EQ(HttpsCompletion(mutual_port, "client.pem", "client.key"), 200);
  (*mutual)->Shutdown();
}

TEST(ServerSecurityTest, BearerTokenGuardsEveryGenerationCallButNotHealth) {
  ServerOptions options = TestServerOptions();
  options.auth_token = "s3cret-token";
  ServerHarness h(options);
  const int port = h.server().grpc_port();

  client::ClientOptions anonymous;
  anonymous.default_deadline = absl::Seconds(20);
  auto c = Client(port, anonymous);
  EXPECT_EQ(c->Generate(GreedyRequest(0)).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(c->GenerateStream(GreedyRequest(0), [](const auto&) { return true; }).status().code(),
            absl::StatusCode::kUnauthenticated);
  ember::v1::TokenizeRequest tokenize;
  tokenize.set_text("hi");
  EXPECT_EQ(c->Tokenize(tokenize).status().code(), absl::StatusCode::kUnauthenticated);
  ember::v1::DetokenizeRequest detokenize;
  detokenize.add_token_ids(1);
  EXPECT_EQ(c->Detokenize(detokenize).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(c->ListModels().status().code(), absl::StatusCode::kUnauthenticated);
  // Probes carry no token.
  EXPECT_EQ(*c->Health(), grpc::health::v1::HealthCheckResponse::SERVING);

  client::ClientOptions wrong = anonymous;
  wrong.bearer_token = "s3cret-tokeN";
  absl::Status s;
  (void)GreedyIds(*Client(port, wrong), &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), Not(HasSubstr("s3cret")));  // never echoes a token

  client::ClientOptions right = anonymous;
  right.bearer_token = "s3cret-token";
  EXPECT_EQ(GreedyIds(*Client(port, right), &s), ReferenceGreedy(0));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(
      h.WaitForMetric(
          "ember_rpcs_total{code=\"UNAUTHENTICATED\",method=\"Generate\",protocol=\"grpc\"}", 2),
      2);
}

TEST(ServerSecurityTest, BadTlsSettingsFailStartWithTheFlagNamed) {
  ASSERT_TRUE(Certs().ok()) << Certs().Log();
  TempDir dir;
  struct Case {
    std::string cert, key, ca, want;
  } cases[] = {
      {Certs().File("server.pem"), "", "", "--tls_key_file"},
      {"", "", Certs().File("ca.pem"), "--tls_cert_file"},
      {dir.File("missing.pem"), Certs().File("server.key"), "", "--tls_cert_file"},
      {Certs().File("server.pem"), dir.Write("not.pem", "hello"), "", "--tls_key_file"},
      {Certs().File("server.pem"), Certs().File("server.key"), dir.Write("empty.pem", ""),
       "--tls_client_ca_file"},
      // A key that does not belong to the certificate: gRPC refuses to bind.
      {Certs().File("server.pem"), Certs().File("client.key"), "", "TLS key does not match"},
  };
  for (const Case& c : cases) {
    ServerOptions options = TestServerOptions();
    options.tls_cert_file = c.cert;
    options.tls_key_file = c.key;
    options.tls_client_ca_file = c.ca;
    auto server = EmberServer::Start(options);
    ASSERT_FALSE(server.ok()) << c.want;
    EXPECT_THAT(server.status().message(), HasSubstr(c.want)) << server.status();
  }
}

}  // namespace
}  // namespace ember::testing
