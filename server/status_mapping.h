// The one place absl::Status becomes grpc::Status (same canonical code, same message), and the
// engine's finish reasons become the proto's.
#ifndef EMBER_SERVER_STATUS_MAPPING_H_
#define EMBER_SERVER_STATUS_MAPPING_H_

#include "absl/status/status.h"
#include "core/engine/request.h"
#include "ember/v1/generation.pb.h"
#include "grpcpp/support/status.h"

namespace ember {

grpc::Status ToGrpcStatus(const absl::Status& status);

ember::v1::FinishReason ToProtoFinishReason(FinishReason reason);

// The status a finished request's RPC ends with: OK for eos / stop / length; CANCELLED,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (rejected) or the error's own status otherwise.
grpc::Status FinalStatus(FinishReason reason, const absl::Status& error);

}  // namespace ember

#endif  // EMBER_SERVER_STATUS_MAPPING_H_
