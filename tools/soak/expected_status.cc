#include "tools/soak/expected_status.h"

namespace ember::soak {
namespace {

// A completed generation: the only finish reasons the server pairs with OK.
bool IsCompletion(ember::v1::FinishReason reason) {
  return reason == ember::v1::FINISH_REASON_EOS || reason == ember::v1::FINISH_REASON_LENGTH ||
         reason == ember::v1::FINISH_REASON_STOP_SEQUENCE;
}

}  // namespace

bool IsExpectedEnding(RequestKind kind, absl::StatusCode code,
                      ember::v1::FinishReason finish_reason) {
  const bool completed = code == absl::StatusCode::kOk && IsCompletion(finish_reason);
  switch (kind) {
    case RequestKind::kNormal:
      return completed;
    case RequestKind::kCancel:
      return code == absl::StatusCode::kCancelled;
    case RequestKind::kDeadline:
      return completed || code == absl::StatusCode::kDeadlineExceeded;
    case RequestKind::kSlowRead:
      return completed || code == absl::StatusCode::kResourceExhausted;
    case RequestKind::kInvalid:
      return code == absl::StatusCode::kInvalidArgument;
  }
  return false;
}

std::string ExpectedEndingsText(RequestKind kind) {
  switch (kind) {
    case RequestKind::kNormal:
      return "OK(eos|length|stop_sequence)";
    case RequestKind::kCancel:
      return "CANCELLED";
    case RequestKind::kDeadline:
      return "OK(eos|length|stop_sequence) or DEADLINE_EXCEEDED";
    case RequestKind::kSlowRead:
      return "OK(eos|length|stop_sequence) or RESOURCE_EXHAUSTED";
    case RequestKind::kInvalid:
      return "INVALID_ARGUMENT";
  }
  return "?";
}

std::string FinishReasonName(ember::v1::FinishReason reason) {
  switch (reason) {
    case ember::v1::FINISH_REASON_EOS:
      return "eos";
    case ember::v1::FINISH_REASON_STOP_SEQUENCE:
      return "stop_sequence";
    case ember::v1::FINISH_REASON_LENGTH:
      return "length";
    case ember::v1::FINISH_REASON_CANCELLED:
      return "cancelled";
    case ember::v1::FINISH_REASON_DEADLINE:
      return "deadline";
    case ember::v1::FINISH_REASON_REJECTED:
      return "rejected";
    case ember::v1::FINISH_REASON_ERROR:
      return "error";
    default:
      return "none";
  }
}

}  // namespace ember::soak
