#include "server/status_mapping.h"

#include <string>

namespace ember {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

ember::v1::FinishReason ToProtoFinishReason(FinishReason reason) {
  switch (reason) {
    case FinishReason::kEos:
      return ember::v1::FINISH_REASON_EOS;
    case FinishReason::kStopSequence:
      return ember::v1::FINISH_REASON_STOP_SEQUENCE;
    case FinishReason::kLength:
      return ember::v1::FINISH_REASON_LENGTH;
    case FinishReason::kCancelled:
      return ember::v1::FINISH_REASON_CANCELLED;
    case FinishReason::kDeadline:
      return ember::v1::FINISH_REASON_DEADLINE;
    case FinishReason::kRejected:
      return ember::v1::FINISH_REASON_REJECTED;
    case FinishReason::kError:
      return ember::v1::FINISH_REASON_ERROR;
    case FinishReason::kNone:
      break;
  }
  return ember::v1::FINISH_REASON_UNSPECIFIED;
}

grpc::Status FinalStatus(FinishReason reason, const absl::Status& error) {
  switch (reason) {
    case FinishReason::kEos:
    case FinishReason::kStopSequence:
    case FinishReason::kLength:
      return grpc::Status::OK;
    case FinishReason::kCancelled:
      // Cancelled by the server's drain: its reason (UNAVAILABLE: retry elsewhere).
      return error.ok() ? grpc::Status(grpc::StatusCode::CANCELLED, "request cancelled")
                        : ToGrpcStatus(error);
    case FinishReason::kDeadline:
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed during generation");
    case FinishReason::kRejected:
      return error.ok() ? grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "request rejected")
                        : ToGrpcStatus(error);
    case FinishReason::kError:
    case FinishReason::kNone:
      break;
  }
  return error.ok() ? grpc::Status(grpc::StatusCode::INTERNAL, "generation failed")
                    : ToGrpcStatus(error);
}

}  // namespace ember
