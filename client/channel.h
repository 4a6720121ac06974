// Builds the gRPC channel an EmberClient talks through, from its target and options.
#ifndef EMBER_CLIENT_CHANNEL_H_
#define EMBER_CLIENT_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/client_options.h"

namespace ember::client {

// A plaintext or TLS channel to `target` ("host:port", or any gRPC target URI such as
// "dns:///host:port" or "unix:/path"), balancing calls over the target's addresses as
// options.lb_policy says. Validates `options` first. The channel connects lazily: an unreachable
// server shows up as UNAVAILABLE on the first call, not here.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateEmberChannel(absl::string_view target,
                                                                  const ClientOptions& options);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CHANNEL_H_
