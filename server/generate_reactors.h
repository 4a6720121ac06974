// The reactors of the two generation RPCs (unary_generate_reactor.cc, stream_generate_reactor.cc).
//
// Threads: the handler's thread Submits; everything after that (engine events, gRPC's OnCancel,
// OnWriteDone and OnDone, the stall alarm) is posted to the EventRelay and runs there, one task at
// a time, so a reactor's state is touched by one thread and needs no lock. The engine's loop
// thread only copies each event into a relay task: it never builds protos or logs for a request.
// Each reactor's state is shared with its engine callback, so an event arriving after the RPC is
// done is dropped instead of touching a deleted reactor.
#ifndef EMBER_SERVER_GENERATE_REACTORS_H_
#define EMBER_SERVER_GENERATE_REACTORS_H_

#include <memory>
#include <string>
#include <utility>

#include "core/engine/engine.h"
#include "ember/v1/generation.grpc.pb.h"
#include "server/event_relay.h"
#include "server/in_flight_calls.h"
#include "server/metrics.h"
#include "server/request_lifecycle.h"
#include "server/server_options.h"

namespace ember {

// What a generation reactor uses; every pointer outlives every call (the server owns them).
struct GenerationCallDeps {
  Engine* engine = nullptr;
  Metrics* metrics = nullptr;  // may be null
  EventRelay* relay = nullptr;
  InFlightCalls* calls = nullptr;  // counts the call from start to OnDone
  const ServerOptions* options = nullptr;
  std::string model_name;
};

// Shared by the two reactors. `Call` is a reactor's shared state: `reactor` (null once OnDone
// ran) and `request` (its RequestLifecycle); the reactor has OnEvent(GenerationEvent) and
// OnSubmitted(const absl::StatusOr<RequestHandle>&), both run on the relay thread.
//
// Submits `request` (on the handler's thread) and routes the engine's events and Submit's outcome
// through the relay to the reactor, dropping them once the call is done.
template <typename Call>
void SubmitThroughRelay(const std::shared_ptr<Call>& call, const GenerationCallDeps& deps,
                        GenerationRequest request) {
  EventRelay* relay = deps.relay;
  absl::StatusOr<RequestHandle> id =
      deps.engine->Submit(std::move(request), [call, relay](const GenerationEvent& e) {
        relay->Post([call, e]() mutable {
          if (call->reactor != nullptr) call->reactor->OnEvent(std::move(e));
        });
      });
  relay->Post([call, id = std::move(id)] {
    if (call->reactor != nullptr) call->reactor->OnSubmitted(id);
  });
}

// gRPC's OnCancel: cancels the engine request on the relay thread, or leaves the cancel pending
// until Submit has returned. `context` is valid while the call is not done.
template <typename Call>
void CancelThroughRelay(const std::shared_ptr<Call>& call, const GenerationCallDeps& deps,
                        const grpc::CallbackServerContext* context) {
  deps.relay->Post([call, engine = deps.engine, context] {
    if (call->reactor != nullptr && call->request.Cancelled()) {
      engine->Cancel(call->request.id(), CancelReason(context));
    }
  });
}

// Starts a unary Generate: submits `request` and finishes the RPC when the final event arrives.
grpc::ServerUnaryReactor* StartUnaryGenerate(grpc::CallbackServerContext* context,
                                             GenerationRequest request,
                                             ember::v1::GenerateResponse* response,
                                             bool return_token_ids, const GenerationCallDeps& deps);

// Starts a streaming GenerateStream.
grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>* StartStreamGenerate(
    grpc::CallbackServerContext* context, GenerationRequest request,
    const GenerationCallDeps& deps);

}  // namespace ember

#endif  // EMBER_SERVER_GENERATE_REACTORS_H_
