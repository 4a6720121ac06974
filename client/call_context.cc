#include "client/call_context.h"

#include "absl/strings/str_cat.h"
#include "client/metadata.h"

namespace ember::client {

absl::Status ConfigureCallContext(const ClientOptions& client, const CallOptions& call,
                                  grpc::ClientContext* context) {
  if (call.deadline < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("CallOptions.deadline is negative (",
                                                   absl::FormatDuration(call.deadline), ")"));
  }
  const absl::Duration deadline =
      call.deadline == absl::ZeroDuration() ? client.default_deadline : call.deadline;
  if (deadline != absl::ZeroDuration() && deadline != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
  for (const auto& [key, value] : call.metadata) {
    if (absl::Status status = ValidateMetadataEntry(key, value); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("CallOptions.metadata: ", status.message()));
    }
  }
  if (!client.bearer_token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", client.bearer_token));
  }
  for (const auto& [key, value] : call.metadata) context->AddMetadata(key, value);
  return absl::OkStatus();
}

}  // namespace ember::client
