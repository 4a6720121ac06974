// Bearer-token authentication of Generation calls (ServerOptions::auth_token).
#ifndef EMBER_SERVER_AUTH_H_
#define EMBER_SERVER_AUTH_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace ember {

// OK when `expected_token` is empty (auth off) or the call carries exactly one
// `authorization: Bearer <expected_token>` metadata entry; UNAUTHENTICATED otherwise, with a
// message that says what was missing but never echoes what was sent. The comparison takes the
// same time wherever the tokens differ.
absl::Status CheckBearerToken(const grpc::ServerContextBase& context,
                              absl::string_view expected_token);

// Constant-time equality (time depends on the lengths only).
bool TokensEqual(absl::string_view a, absl::string_view b);

}  // namespace ember

#endif  // EMBER_SERVER_AUTH_H_
