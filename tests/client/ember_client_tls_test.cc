// EmberClient over TLS and mutual TLS, with a throwaway CA made by the openssl tool at test time
// (skipped when openssl is not installed). Targets are 127.0.0.1, not localhost: resolving a name
// goes through Debian's c-ares, whose leak (c-ares/c-ares#439) LeakSanitizer would report.
#include <grpcpp/security/server_credentials.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/ember_client.h"
#include "gtest/gtest.h"
#include "tests/client/fake_generation_server.h"
#include "tests/test_util/temp_dir.h"

namespace ember::client {
namespace {

using ::ember::testing::FakeServer;
using ::ember::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all EC P-256.
struct TestPki {
  std::string ca;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
};

bool MakePki(const TempDir& dir, TestPki& pki) {
  const std::string d = dir.path();
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  dir.Write("server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  dir.Write("client.ext", "extendedKeyUsage=clientAuth\n");
  const std::string script = absl::StrCat(
      "cd '", d, "' && ", "openssl req -x509 ", key,
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=ember-test-ca && ", "openssl req ", key,
      " -keyout server.key -out server.csr -subj /CN=localhost && ",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
      "-days 2 -extfile server.ext && ",
      "openssl req ", key, " -keyout client.key -out client.csr -subj /CN=ember-test-client && ",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem "
      "-days 2 -extfile client.ext");
  if (std::system(absl::StrCat("(", script, ") >'", d, "/openssl.log' 2>&1").c_str()) != 0) {
    ADD_FAILURE() << "openssl failed: " << ReadFile(d + "/openssl.log");
    return false;
  }
  pki = {ReadFile(d + "/ca.pem"), ReadFile(d + "/server.pem"), ReadFile(d + "/server.key"),
         ReadFile(d + "/client.pem"), ReadFile(d + "/client.key")};
  return true;
}

std::shared_ptr<grpc::ServerCredentials> ServerTls(const TestPki& pki, bool require_client_cert) {
  grpc::SslServerCredentialsOptions options(
      require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_root_certs = pki.ca;
  options.pem_key_cert_pairs.push_back({pki.server_key, pki.server_cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusCode GenerateCode(const std::string& target, const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<EmberClient>> client = EmberClient::Create(target, options);
  if (!client.ok()) return client.status().code();
  ember::v1::GenerateRequest request;
  request.set_prompt("tls");
  CallOptions call;
  call.deadline = absl::Seconds(10);
  return (*client)->Generate(request, call).status().code();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "openssl not installed";
    }
    ASSERT_TRUE(MakePki(dir_, pki_));
  }

  TempDir dir_;
  TestPki pki_;
};

TEST_F(TlsTest, ServerVerifiedByTheGivenCa) {
  FakeServer server(ServerTls(pki_, /*require_client_cert=*/false));
  const std::string target = server.target();
  ClientOptions options;
  options.tls = true;
  options.tls_root_certs_pem = pki_.ca;
  EXPECT_EQ(GenerateCode(target, options), absl::StatusCode::kOk);

  // The certificate names localhost and 127.0.0.1: the override is checked against it.
  options.tls_server_name = "localhost";
  EXPECT_EQ(GenerateCode(target, options), absl::StatusCode::kOk);
  options.tls_server_name = "not-the-server.example";
  EXPECT_EQ(GenerateCode(target, options), absl::StatusCode::kUnavailable);

  ClientOptions plaintext;
  EXPECT_EQ(GenerateCode(target, plaintext), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, MutualTlsNeedsTheClientCertificate) {
  FakeServer server(ServerTls(pki_, /*require_client_cert=*/true));
  const std::string target = server.target();
  ClientOptions options;
  options.tls = true;
  options.tls_root_certs_pem = pki_.ca;
  EXPECT_EQ(GenerateCode(target, options), absl::StatusCode::kUnavailable);

  options.tls_client_cert_pem = pki_.client_cert;
  options.tls_client_key_pem = pki_.client_key;
  EXPECT_EQ(GenerateCode(target, options), absl::StatusCode::kOk);
}

}  // namespace
}  // namespace ember::client
