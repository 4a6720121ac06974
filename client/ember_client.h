// EmberClient: a thin, blocking C++ client for ember's gRPC API (ember.v1.Generation and the
// standard grpc.health.v1 health check).
//
//   absl::StatusOr<std::unique_ptr<EmberClient>> client =
//       EmberClient::Create("localhost:50051", ClientOptions{});
//   if (!client.ok()) return client.status();
//   ember::v1::GenerateRequest request;
//   request.set_prompt("Once upon a time");
//   absl::StatusOr<ember::v1::GenerateStreamResponse> last = (*client)->GenerateStream(
//       request, [](const ember::v1::GenerateStreamResponse& piece) {
//         std::cout << piece.text() << std::flush;
//         return true;  // false cancels the call
//       });
//
// Every method returns the server's gRPC status as an absl::Status with the same code and message
// (see proto/ember/v1/generation.proto for what each code means), or INVALID_ARGUMENT /
// CANCELLED produced on this side as documented per method.
#ifndef EMBER_CLIENT_EMBER_CLIENT_H_
#define EMBER_CLIENT_EMBER_CLIENT_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/call_handle.h"
#include "client/client_options.h"
#include "ember/v1/generation.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ember::client {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// "SERVING", "NOT_SERVING", ... (the proto enum's name).
std::string ServingStatusName(ServingStatus status);

// Receives each GenerateStream message as it arrives, including the last one (the one carrying
// finish_reason). Return false to cancel the call. Runs on the thread that called GenerateStream.
using StreamCallback = absl::FunctionRef<bool(const ember::v1::GenerateStreamResponse&)>;

// Thread-safe: one client may serve any number of concurrent calls from any threads (they are
// multiplexed over one HTTP/2 connection).
class EmberClient {
 public:
  // Validates `options` and builds the channel to `target` ("host:port"). Connects lazily, so an
  // unreachable server surfaces as UNAVAILABLE on the first call.
  static absl::StatusOr<std::unique_ptr<EmberClient>> Create(absl::string_view target,
                                                             const ClientOptions& options);

  EmberClient(const EmberClient&) = delete;
  EmberClient& operator=(const EmberClient&) = delete;

  // Generates a whole completion, blocking until it is done.
  absl::StatusOr<ember::v1::GenerateResponse> Generate(const ember::v1::GenerateRequest& request,
                                                       const CallOptions& options = {}) const;

  // Streams a completion: `on_message` sees every message in order; the result is the last one
  // (finish_reason set, with usage and timings). CANCELLED when `on_message` returned false or
  // options.handle was cancelled; INTERNAL when the server ended the stream with OK but without a
  // finish_reason.
  absl::StatusOr<ember::v1::GenerateStreamResponse> GenerateStream(
      const ember::v1::GenerateRequest& request, StreamCallback on_message,
      const CallOptions& options = {}) const;

  absl::StatusOr<ember::v1::TokenizeResponse> Tokenize(const ember::v1::TokenizeRequest& request,
                                                       const CallOptions& options = {}) const;

  absl::StatusOr<ember::v1::DetokenizeResponse> Detokenize(
      const ember::v1::DetokenizeRequest& request, const CallOptions& options = {}) const;

  absl::StatusOr<ember::v1::ListModelsResponse> ListModels(const CallOptions& options = {}) const;

  // grpc.health.v1 Check of `service` ("" = the server as a whole, "ember.v1.Generation" = the
  // generation service). NOT_FOUND when the server does not know `service`.
  absl::StatusOr<ServingStatus> Health(absl::string_view service = "",
                                       const CallOptions& options = {}) const;

  const std::string& target() const { return target_; }

 private:
  EmberClient(std::string target, const ClientOptions& options,
              std::shared_ptr<grpc::Channel> channel);

  const std::string target_;
  const ClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<ember::v1::Generation::Stub> generation_;
  const std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace ember::client

#endif  // EMBER_CLIENT_EMBER_CLIENT_H_
