#include "server/request_lifecycle.h"

#include <chrono>

#include "absl/time/time.h"
#include "core/util/logging.h"

namespace ember {

bool RequestLifecycle::Cancelled() {
  switch (phase_) {
    case Phase::kSubmitting:
      phase_ = Phase::kCancelPending;
      return false;
    case Phase::kRunning:
      return true;
    case Phase::kCancelPending:
    case Phase::kEndedEarly:
    case Phase::kEnded:
      return false;
  }
  return false;
}

bool RequestLifecycle::Submitted(RequestHandle id) {
  id_ = id;
  switch (phase_) {
    case Phase::kSubmitting:
      phase_ = Phase::kRunning;
      return false;
    case Phase::kCancelPending:
      phase_ = Phase::kRunning;
      return true;
    case Phase::kEndedEarly:
      phase_ = Phase::kEnded;
      return false;
    case Phase::kRunning:
    case Phase::kEnded:
      break;  // not a transition: Submit returns once
  }
  return false;
}

void RequestLifecycle::Refused() {
  if (phase_ == Phase::kSubmitting || phase_ == Phase::kCancelPending) phase_ = Phase::kEnded;
}

void RequestLifecycle::Ended() {
  switch (phase_) {
    case Phase::kSubmitting:
    case Phase::kCancelPending:
      phase_ = Phase::kEndedEarly;
      return;
    case Phase::kRunning:
      phase_ = Phase::kEnded;
      return;
    case Phase::kEndedEarly:
    case Phase::kEnded:
      return;  // one final event per request
  }
}

// The client's own timer usually fires first: it cancels the call, and that cancel reaches us
// before our copy of the deadline (computed from the grpc-timeout header when the call arrived,
// so later by the transit time) has passed. A cancel within kDeadlineGrace of the deadline
// therefore counts as the deadline; a client that cancels by hand in its last second is the only
// thing misfiled.
constexpr auto kDeadlineGrace = std::chrono::seconds(1);

FinishReason CancelReason(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return FinishReason::kCancelled;
  return deadline - kDeadlineGrace <= std::chrono::system_clock::now() ? FinishReason::kDeadline
                                                                       : FinishReason::kCancelled;
}

void LogRequest(const char* method, RequestHandle id, const std::string& request_id,
                const grpc::Status& status, FinishReason reason, const RequestTimings& t) {
  EMBER_LOG(INFO) << method << " engine_id=" << id << (request_id.empty() ? "" : " request_id=")
                  << request_id << " status=" << static_cast<int>(status.error_code())
                  << " finish=" << FinishReasonName(reason) << " prompt_tokens=" << t.prompt_tokens
                  << " generated_tokens=" << t.generated_tokens
                  << " queue_s=" << absl::ToDoubleSeconds(t.queue_wait)
                  << " ttft_s=" << absl::ToDoubleSeconds(t.time_to_first_token)
                  << " total_s=" << absl::ToDoubleSeconds(t.total);
}

}  // namespace ember
