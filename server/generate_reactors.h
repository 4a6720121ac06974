// The reactors of the two generation RPCs. Each owns a shared CallState that the engine's event
// callback also holds, so an event arriving after the RPC is done is dropped safely instead of
// touching a deleted reactor.
#ifndef EMBER_SERVER_GENERATE_REACTORS_H_
#define EMBER_SERVER_GENERATE_REACTORS_H_

#include "core/engine/engine.h"
#include "ember/v1/generation.grpc.pb.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace ember {

// Starts a unary Generate: submits `request` and finishes the RPC when the final event arrives.
grpc::ServerUnaryReactor* StartUnaryGenerate(grpc::CallbackServerContext* context,
                                             GenerationRequest request,
                                             ember::v1::GenerateResponse* response,
                                             bool return_token_ids, Engine* engine,
                                             Metrics* metrics, const ServerOptions& options,
                                             const std::string& model_name);

// Starts a streaming GenerateStream.
grpc::ServerWriteReactor<ember::v1::GenerateStreamResponse>* StartStreamGenerate(
    grpc::CallbackServerContext* context, GenerationRequest request, Engine* engine,
    Metrics* metrics, const ServerOptions& options);

// One log line for a finished request.
void LogRequest(const char* method, RequestId id, const std::string& client_id,
                const grpc::Status& status, FinishReason reason, const RequestTimings& timings);

}  // namespace ember

#endif  // EMBER_SERVER_GENERATE_REACTORS_H_
