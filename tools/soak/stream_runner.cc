#include "tools/soak/stream_runner.h"

#include <utility>

#include "absl/time/clock.h"

namespace ember::soak {

StreamOutcome RunStream(const client::EmberClient& client, const PlannedRequest& plan,
                        std::shared_ptr<client::CallHandle> handle,
                        std::atomic<int64_t>& tokens_received) {
  StreamOutcome outcome;
  outcome.kind = plan.kind;
  outcome.request_id = plan.request.request_id();
  client::CallOptions call;
  // Zero leaves the client's default (none); only short-deadline requests set one.
  call.deadline = plan.deadline;
  call.handle = std::move(handle);

  const absl::Time start = absl::Now();
  absl::StatusOr<ember::v1::GenerateStreamResponse> last = client.GenerateStream(
      plan.request,
      [&](const ember::v1::GenerateStreamResponse& message) {
        outcome.tokens += message.token_ids_size();
        tokens_received.fetch_add(message.token_ids_size(), std::memory_order_relaxed);
        if (plan.cancel_after_tokens > 0 && outcome.tokens >= plan.cancel_after_tokens) {
          return false;  // the library cancels the call and returns CANCELLED
        }
        // Sleeping here keeps the next Read from being issued, so gRPC's flow control pushes back
        // on the server: the slow-reader path of the stream reactor.
        if (plan.read_delay > absl::ZeroDuration()) absl::SleepFor(plan.read_delay);
        return true;
      },
      call);
  outcome.elapsed = absl::Now() - start;
  if (last.ok()) {
    outcome.code = absl::StatusCode::kOk;
    outcome.finish_reason = last->finish_reason();
  } else {
    outcome.code = last.status().code();
    outcome.message = std::string(last.status().message());
  }
  return outcome;
}

}  // namespace ember::soak
