#include "client/ember_client.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/call_context.h"
#include "client/channel.h"
#include "client/grpc_status.h"

namespace ember::client {
namespace {

// The status of a call that ended (or never started) because of options.handle: gRPC's own
// message ("Cancelled") does not say who cancelled.
absl::Status CancelledByHandle(absl::string_view method) {
  return absl::CancelledError(absl::StrCat(method, " cancelled through CallHandle::Cancel"));
}

absl::Status CallFailure(absl::string_view method, const grpc::Status& status,
                         const CallOptions& options) {
  if (status.error_code() == grpc::StatusCode::CANCELLED && options.handle != nullptr &&
      options.handle->cancelled()) {
    return CancelledByHandle(method);
  }
  return FromGrpcStatus(status);
}

// Runs one unary RPC: `rpc(context, response)` is the blocking stub call.
template <typename Response, typename Rpc>
absl::StatusOr<Response> UnaryCall(absl::string_view method, const ClientOptions& client_options,
                                   const CallOptions& options, Rpc rpc) {
  grpc::ClientContext context;
  if (absl::Status status = ConfigureCallContext(client_options, options, &context); !status.ok()) {
    return status;
  }
  const ScopedCallAttachment attachment(options.handle.get(), &context);
  if (!attachment.ok()) return CancelledByHandle(method);
  Response response;
  const grpc::Status status = rpc(&context, &response);
  if (!status.ok()) return CallFailure(method, status, options);
  return response;
}

}  // namespace

std::string ServingStatusName(ServingStatus status) {
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(status);
}

absl::StatusOr<std::unique_ptr<EmberClient>> EmberClient::Create(absl::string_view target,
                                                                 const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = CreateEmberChannel(target, options);
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<EmberClient>(
      new EmberClient(std::string(target), options, *std::move(channel)));
}

EmberClient::EmberClient(std::string target, const ClientOptions& options,
                         std::shared_ptr<grpc::Channel> channel)
    : target_(std::move(target)),
      options_(options),
      channel_(std::move(channel)),
      generation_(ember::v1::Generation::NewStub(channel_)),
      health_(grpc::health::v1::Health::NewStub(channel_)) {}

absl::StatusOr<ember::v1::GenerateResponse> EmberClient::Generate(
    const ember::v1::GenerateRequest& request, const CallOptions& options) const {
  return UnaryCall<ember::v1::GenerateResponse>(
      "Generate", options_, options,
      [&](grpc::ClientContext* context, ember::v1::GenerateResponse* response) {
        return generation_->Generate(context, request, response);
      });
}

absl::StatusOr<ember::v1::GenerateStreamResponse> EmberClient::GenerateStream(
    const ember::v1::GenerateRequest& request, StreamCallback on_message,
    const CallOptions& options) const {
  grpc::ClientContext context;
  if (absl::Status status = ConfigureCallContext(options_, options, &context); !status.ok()) {
    return status;
  }
  const ScopedCallAttachment attachment(options.handle.get(), &context);
  if (!attachment.ok()) return CancelledByHandle("GenerateStream");

  std::unique_ptr<grpc::ClientReader<ember::v1::GenerateStreamResponse>> reader =
      generation_->GenerateStream(&context, request);
  ember::v1::GenerateStreamResponse message;
  ember::v1::GenerateStreamResponse last;
  bool finished = false;
  bool stopped_by_callback = false;
  while (reader->Read(&message)) {
    if (message.finish_reason() != ember::v1::FINISH_REASON_UNSPECIFIED) {
      last = message;
      finished = true;
    }
    if (!on_message(message)) {
      stopped_by_callback = true;
      context.TryCancel();
      // Finish may only be called once no message is pending; after TryCancel the remaining
      // reads fail promptly.
      while (reader->Read(&message)) {
      }
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (stopped_by_callback) {
    return absl::CancelledError("GenerateStream cancelled by its message callback");
  }
  if (!status.ok()) return CallFailure("GenerateStream", status, options);
  if (!finished) {
    return absl::InternalError(
        "GenerateStream ended with OK but no message carried a finish_reason (server bug)");
  }
  return last;
}

absl::StatusOr<ember::v1::TokenizeResponse> EmberClient::Tokenize(
    const ember::v1::TokenizeRequest& request, const CallOptions& options) const {
  return UnaryCall<ember::v1::TokenizeResponse>(
      "Tokenize", options_, options,
      [&](grpc::ClientContext* context, ember::v1::TokenizeResponse* response) {
        return generation_->Tokenize(context, request, response);
      });
}

absl::StatusOr<ember::v1::DetokenizeResponse> EmberClient::Detokenize(
    const ember::v1::DetokenizeRequest& request, const CallOptions& options) const {
  return UnaryCall<ember::v1::DetokenizeResponse>(
      "Detokenize", options_, options,
      [&](grpc::ClientContext* context, ember::v1::DetokenizeResponse* response) {
        return generation_->Detokenize(context, request, response);
      });
}

absl::StatusOr<ember::v1::ListModelsResponse> EmberClient::ListModels(
    const CallOptions& options) const {
  const ember::v1::ListModelsRequest request;
  return UnaryCall<ember::v1::ListModelsResponse>(
      "ListModels", options_, options,
      [&](grpc::ClientContext* context, ember::v1::ListModelsResponse* response) {
        return generation_->ListModels(context, request, response);
      });
}

absl::StatusOr<ServingStatus> EmberClient::Health(absl::string_view service,
                                                  const CallOptions& options) const {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::string(service));
  absl::StatusOr<grpc::health::v1::HealthCheckResponse> response =
      UnaryCall<grpc::health::v1::HealthCheckResponse>(
          "Health", options_, options,
          [&](grpc::ClientContext* context, grpc::health::v1::HealthCheckResponse* out) {
            return health_->Check(context, request, out);
          });
  if (!response.ok()) return response.status();
  return response->status();
}

}  // namespace ember::client
