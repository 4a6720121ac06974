// The one conversion from gRPC's status to absl::Status used by the client library.
#ifndef EMBER_CLIENT_GRPC_STATUS_H_
#define EMBER_CLIENT_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace ember::client {

// Same canonical code (gRPC and absl share the numbering), same message. Error details, if any,
// are dropped: ember's API carries everything in the message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace ember::client

#endif  // EMBER_CLIENT_GRPC_STATUS_H_
