// ember parses its request messages itself instead of leaving that to gRPC's protobuf glue.
//
// Why: a proto3 `string` field must hold UTF-8, and protobuf refuses to parse a message whose
// string field does not. gRPC's callback API then answers UNIMPLEMENTED with an empty message
// (grpc::internal::CallbackUnaryHandler::RunHandler, gRPC 1.51), so a client that sent one bad
// byte cannot tell what it did wrong. Declaring the fields `bytes` would fix the parse but change
// the public API (Python users pass str). Instead the service's handlers take a CheckedRequest<M>:
// its SerializationTraits below run ParseRequest, which checks every string field for UTF-8
// before protobuf parses, and the handler answers a refusal (INVALID_ARGUMENT naming the field and
// the byte) after authentication, like every other validation error. The wire format and the
// public .proto are unchanged.
#ifndef EMBER_SERVER_REQUEST_PARSING_H_
#define EMBER_SERVER_REQUEST_PARSING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "grpcpp/support/status.h"

namespace ember {

// Parses `bytes`, a serialized `out`, into `out`. Before protobuf parses, every string field (at
// any depth, found through `out`'s descriptor) is checked for UTF-8: INVALID_ARGUMENT
// "prompt: not valid UTF-8 at byte 17" (`stop[1]: ...` for repeated fields, `a.b: ...` for nested
// ones; the offset is inside the field's value). INVALID_ARGUMENT "request: ..." when the bytes are
// not such a message at all.
absl::Status ParseRequest(absl::string_view bytes, google::protobuf::Message* out);

// The same for a message as gRPC received it. Consumes `buffer` (as gRPC's own deserializers do).
absl::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* out);

// A request as ember parsed it. When `status` is not OK, `message` is unspecified and the handler
// must answer `status`.
template <typename Message>
struct CheckedRequest {
  Message message;
  absl::Status status;
};

}  // namespace ember

namespace grpc {

// How gRPC turns received bytes into a CheckedRequest. Deserialize always succeeds: a refused
// message travels in `status` to the handler, because a failure here would reach the client as
// UNIMPLEMENTED without a message.
template <typename Message>
class SerializationTraits<ember::CheckedRequest<Message>, void> {
 public:
  static Status Deserialize(ByteBuffer* buffer, ember::CheckedRequest<Message>* request) {
    request->status = ember::ParseRequest(buffer, &request->message);
    return Status::OK;
  }
  // Servers only receive CheckedRequests; this exists because gRPC requires both directions.
  static Status Serialize(const ember::CheckedRequest<Message>& request, ByteBuffer* buffer,
                          bool* own_buffer) {
    const std::string bytes = request.message.SerializeAsString();
    Slice slice(bytes);
    *buffer = ByteBuffer(&slice, 1);
    *own_buffer = true;
    return Status::OK;
  }
};

}  // namespace grpc

#endif  // EMBER_SERVER_REQUEST_PARSING_H_
