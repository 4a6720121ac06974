// Settings of an EmberClient (per channel) and of one call.
#ifndef EMBER_CLIENT_CLIENT_OPTIONS_H_
#define EMBER_CLIENT_CLIENT_OPTIONS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/call_handle.h"

namespace ember::client {

struct ClientOptions {
  // Deadline of every call that does not set its own. Zero or absl::InfiniteDuration() means no
  // deadline; negative is invalid.
  absl::Duration default_deadline = absl::ZeroDuration();
  // Connect with TLS. When false the channel is plaintext and every tls_* field must be empty.
  bool tls = false;
  // PEM root certificates that verify the server. Empty means gRPC's defaults (the system roots,
  // or $GRPC_DEFAULT_SSL_ROOTS_FILE_PATH).
  std::string tls_root_certs_pem;
  // PEM certificate chain and private key presented to the server for mutual TLS; set both or
  // neither. Empty means no client certificate.
  std::string tls_client_cert_pem;
  std::string tls_client_key_pem;
  // Host name the server certificate must match instead of the target's host (e.g. when the
  // target is an IP address). Empty means the target's host.
  std::string tls_server_name;
  // Sent as `authorization: Bearer <token>` metadata on every call. Empty means no token. Printable
  // ASCII only.
  std::string bearer_token;
  // Largest response message accepted, in bytes. 0 means gRPC's default (4 MiB); -1 means no limit.
  int max_receive_message_bytes = 0;
  // How calls spread over the addresses the target resolves to (set in the channel's service
  // config): "pick_first" (default) sends every call to the first address that connects;
  // "round_robin" connects to all of them and rotates calls, e.g. over the pods behind a
  // Kubernetes headless Service (target
  // "dns:///ember-headless.<namespace>.svc.cluster.local:50051").
  std::string lb_policy = "pick_first";
};

// Checks the combinations ClientOptions allows; the error names the offending field.
absl::Status ValidateClientOptions(const ClientOptions& options);

struct CallOptions {
  // This call's deadline, counted from when it starts. Zero means ClientOptions::default_deadline;
  // absl::InfiniteDuration() means none; negative is invalid.
  absl::Duration deadline = absl::ZeroDuration();
  // Extra metadata sent with this call, after the bearer token. Keys are lowercase ASCII
  // ([0-9a-z-_.], not starting with "grpc-"); values printable ASCII unless the key ends in "-bin".
  std::vector<std::pair<std::string, std::string>> metadata;
  // Lets another thread cancel this call (see CallHandle). Null means the call ends only by
  // itself, by its deadline or (for GenerateStream) by its callback.
  std::shared_ptr<CallHandle> handle;
};

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLIENT_OPTIONS_H_
