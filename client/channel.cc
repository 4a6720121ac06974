#include "client/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace ember::client {

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateEmberChannel(absl::string_view target,
                                                                  const ClientOptions& options) {
  if (target.empty()) return absl::InvalidArgumentError("target is empty; want host:port");
  if (absl::Status status = ValidateClientOptions(options); !status.ok()) return status;

  grpc::ChannelArguments args;
  if (options.max_receive_message_bytes != 0) {
    args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  }
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  // gRPC's channel-level choice; only a service config published with the target's DNS records
  // (ember's deployments publish none) would override it.
  args.SetLoadBalancingPolicyName(options.lb_policy);

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs_pem;
    ssl.pem_cert_chain = options.tls_client_cert_pem;
    ssl.pem_private_key = options.tls_client_key_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  if (credentials == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create TLS credentials for ", target, " from the given PEM data"));
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(std::string(target), credentials, args);
  if (channel == nullptr) {
    return absl::InternalError(absl::StrCat("gRPC could not create a channel to ", target));
  }
  return channel;
}

}  // namespace ember::client
