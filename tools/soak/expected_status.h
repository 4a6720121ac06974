// Which endings each request kind may have. Anything else is an unexpected status: a soak failure.
#ifndef EMBER_TOOLS_SOAK_EXPECTED_STATUS_H_
#define EMBER_TOOLS_SOAK_EXPECTED_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "ember/v1/generation.pb.h"
#include "tools/soak/request_mix.h"

namespace ember::soak {

// True when a stream of `kind` may end with `code` and, for OK, `finish_reason`:
//   normal    OK with eos, length or stop_sequence
//   cancel    CANCELLED (the client cancelled it)
//   deadline  DEADLINE_EXCEEDED, or OK as for normal when it finished in time
//   slow      OK as for normal, or RESOURCE_EXHAUSTED (the server's documented answer to a reader
//             whose unread output passed --max_stream_buffer_bytes)
//   invalid   INVALID_ARGUMENT
// `finish_reason` is ignored unless `code` is OK.
bool IsExpectedEnding(RequestKind kind, absl::StatusCode code,
                      ember::v1::FinishReason finish_reason);

// The expected endings of `kind` in words, for the report ("OK(eos|length|stop) or CANCELLED").
std::string ExpectedEndingsText(RequestKind kind);

// "eos", "length", ... (the names ember_requests_total uses); "none" for UNSPECIFIED.
std::string FinishReasonName(ember::v1::FinishReason reason);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_EXPECTED_STATUS_H_
