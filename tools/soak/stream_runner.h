// Runs one planned request through EmberClient::GenerateStream, acting out its kind's behaviour
// (cancelling after k tokens, sleeping between reads, a short deadline).
#ifndef EMBER_TOOLS_SOAK_STREAM_RUNNER_H_
#define EMBER_TOOLS_SOAK_STREAM_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "client/call_handle.h"
#include "client/ember_client.h"
#include "tools/soak/request_plan.h"
#include "tools/soak/stream_outcome.h"

namespace ember::soak {

// Blocks until the call ends; always returns its status (never hangs past the call). `handle`
// (non-null, fresh) lets another thread cancel the call; `tokens_received` is bumped as token ids
// arrive, for live progress.
StreamOutcome RunStream(const client::EmberClient& client, const PlannedRequest& plan,
                        std::shared_ptr<client::CallHandle> handle,
                        std::atomic<int64_t>& tokens_received);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_STREAM_RUNNER_H_
