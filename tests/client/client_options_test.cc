// ClientOptions / CallOptions validation: each rejected combination names the field.
#include "client/client_options.h"

#include "client/ember_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember::client {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(const ClientOptions& options, const std::string& names) {
  const absl::Status status = ValidateClientOptions(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(names));
  EXPECT_EQ(EmberClient::Create("127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClientOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateClientOptions(ClientOptions{}).ok());
  ClientOptions tls;
  tls.tls = true;
  EXPECT_TRUE(ValidateClientOptions(tls).ok());
}

TEST(ClientOptionsTest, RejectsBadCombinations) {
  ClientOptions options;
  options.default_deadline = absl::Seconds(-1);
  ExpectInvalid(options, "default_deadline");

  options = {};
  options.tls_root_certs_pem = "-----BEGIN CERTIFICATE-----";
  ExpectInvalid(options, "tls_root_certs_pem is set but ClientOptions.tls is false");

  options = {};
  options.tls = true;
  options.tls_client_cert_pem = "cert";
  ExpectInvalid(options, "tls_client_key_pem");

  options = {};
  options.bearer_token = "line\nbreak";
  ExpectInvalid(options, "bearer_token");

  options = {};
  options.max_receive_message_bytes = -2;
  ExpectInvalid(options, "max_receive_message_bytes");

  options = {};
  options.lb_policy = "least_request";
  ExpectInvalid(options,
                "ClientOptions.lb_policy is \"least_request\"; want pick_first or round_robin");
  options.lb_policy = "";
  ExpectInvalid(options, "ClientOptions.lb_policy is \"\"");
}

TEST(ClientOptionsTest, BothLoadBalancingPoliciesAreValid) {
  ClientOptions options;
  EXPECT_EQ(options.lb_policy, "pick_first");
  options.lb_policy = "round_robin";
  EXPECT_TRUE(ValidateClientOptions(options).ok());
}

TEST(ClientOptionsTest, EmptyTargetIsRejected) {
  const absl::Status status = EmberClient::Create("", ClientOptions{}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("target"));
}

}  // namespace
}  // namespace ember::client
