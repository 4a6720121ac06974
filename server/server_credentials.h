// gRPC server credentials from ServerOptions: plaintext, TLS, or mutual TLS, from PEM files.
#ifndef EMBER_SERVER_SERVER_CREDENTIALS_H_
#define EMBER_SERVER_SERVER_CREDENTIALS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "server/server_options.h"

namespace ember {

// Insecure credentials when no TLS file is set. INVALID_ARGUMENT when only one of the certificate
// and key is given, or a client CA without them; NOT_FOUND / FAILED_PRECONDITION naming the file
// when one cannot be read or holds no PEM block. (gRPC itself checks that the key matches the
// certificate when the port is bound: a mismatch fails StartGrpc.)
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerOptions& options);

// True when `options` asks for TLS.
bool TlsEnabled(const ServerOptions& options);

}  // namespace ember

#endif  // EMBER_SERVER_SERVER_CREDENTIALS_H_
