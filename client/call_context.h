// Prepares the grpc::ClientContext of one call: deadline, bearer token, extra metadata.
#ifndef EMBER_CLIENT_CALL_CONTEXT_H_
#define EMBER_CLIENT_CALL_CONTEXT_H_

#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "client/client_options.h"

namespace ember::client {

// Applies `client` defaults and `call` overrides to `context` (which must be fresh). Fails with
// INVALID_ARGUMENT naming the field when CallOptions holds a negative deadline or bad metadata; the
// call must then not be started.
absl::Status ConfigureCallContext(const ClientOptions& client, const CallOptions& call,
                                  grpc::ClientContext* context);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CALL_CONTEXT_H_
