#include "client/grpc_status.h"

namespace ember::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // Both enumerations are the canonical codes 0..16, so the value carries over unchanged; anything
  // else (a misbehaving peer) becomes UNKNOWN rather than a code absl cannot name.
  const int code = static_cast<int>(status.error_code());
  const absl::StatusCode absl_code =
      code >= 1 && code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
  return absl::Status(absl_code, status.error_message());
}

}  // namespace ember::client
