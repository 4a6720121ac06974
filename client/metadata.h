// Checks on gRPC metadata, done before a call so a bad key fails with INVALID_ARGUMENT naming it
// instead of an opaque transport error.
#ifndef EMBER_CLIENT_METADATA_H_
#define EMBER_CLIENT_METADATA_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ember::client {

// Every byte in [0x20, 0x7e].
bool IsPrintableAscii(absl::string_view text);

// A custom metadata entry as HTTP/2 allows it: a non-empty lowercase key of [0-9a-z-_.] not in the
// reserved "grpc-" namespace, and a printable ASCII value unless the key ends in "-bin".
absl::Status ValidateMetadataEntry(absl::string_view key, absl::string_view value);

}  // namespace ember::client

#endif  // EMBER_CLIENT_METADATA_H_
