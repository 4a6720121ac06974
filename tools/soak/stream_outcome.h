// What became of one soak stream.
#ifndef EMBER_TOOLS_SOAK_STREAM_OUTCOME_H_
#define EMBER_TOOLS_SOAK_STREAM_OUTCOME_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ember/v1/generation.pb.h"
#include "tools/soak/request_mix.h"

namespace ember::soak {

struct StreamOutcome {
  RequestKind kind = RequestKind::kNormal;
  std::string request_id;
  // The call's status as the client library returned it.
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;
  // From the last message when `code` is OK; UNSPECIFIED otherwise.
  ember::v1::FinishReason finish_reason = ember::v1::FINISH_REASON_UNSPECIFIED;
  // Token ids received over the stream.
  int64_t tokens = 0;
  // Call start to the status.
  absl::Duration elapsed;
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_STREAM_OUTCOME_H_
