// The request side of a generation call, as its reactor sees it, and what every generation
// reactor shares: the cancel reason of a gRPC cancel, and the per-request log line.
//
// A reactor learns about its request from three directions: Submit returning (on the handler's
// thread), the engine's events (posted from the loop thread), and gRPC's OnCancel. All three are
// settled on the EventRelay thread, in the order they were posted, through RequestLifecycle.
#ifndef EMBER_SERVER_REQUEST_LIFECYCLE_H_
#define EMBER_SERVER_REQUEST_LIFECYCLE_H_

#include <string>

#include "core/engine/request.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace ember {

// Transitions, each made by the one method named:
//   kSubmitting    -> kCancelPending  Cancelled(): OnCancel came before Submit returned
//   kSubmitting    -> kEndedEarly     Ended(): the final event came before Submit returned
//   kCancelPending -> kEndedEarly     Ended()
//   kSubmitting    -> kRunning        Submitted()
//   kCancelPending -> kRunning        Submitted() returns true: cancel the request now
//   kEndedEarly    -> kEnded          Submitted()
//   kRunning       -> kEnded          Ended()
//   kSubmitting    -> kEnded          Refused(): Submit returned an error (no event will come)
//   kCancelPending -> kEnded          Refused()
// Not thread-safe: only the relay thread uses it.
class RequestLifecycle {
 public:
  enum class Phase { kSubmitting, kCancelPending, kEndedEarly, kRunning, kEnded };

  // OnCancel: true when the request is running and must be cancelled now.
  bool Cancelled();
  // Submit returned `id`: true when a cancel came first and must be sent now.
  bool Submitted(RequestHandle id);
  void Refused();
  // The final event arrived.
  void Ended();

  Phase phase() const { return phase_; }
  // Submit has returned and the final event has arrived: the call may complete.
  bool complete() const { return phase_ == Phase::kEnded; }
  // The engine request is live (events may still come and a cancel reaches it).
  bool running() const { return phase_ == Phase::kRunning; }
  RequestHandle id() const { return id_; }  // 0 until Submitted

 private:
  Phase phase_ = Phase::kSubmitting;
  RequestHandle id_ = 0;
};

// gRPC cancels a call both when the client goes away and when its deadline passes; the two end a
// request differently (kCancelled vs kDeadline). See the .cc for the clock rule.
FinishReason CancelReason(const grpc::CallbackServerContext* context);

// One log line for a finished request.
void LogRequest(const char* method, RequestHandle id, const std::string& request_id,
                const grpc::Status& status, FinishReason reason, const RequestTimings& timings);

}  // namespace ember

#endif  // EMBER_SERVER_REQUEST_LIFECYCLE_H_
