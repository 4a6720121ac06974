// Closed-loop load through ember's OpenAI-compatible HTTP API: each client a keep-alive HTTP/1.1
// connection streaming POST /v1/completions (server-sent events), as OpenAI clients call it.
#ifndef EMBER_BENCH_SERVING_BENCH_HTTP_LOAD_H_
#define EMBER_BENCH_SERVING_BENCH_HTTP_LOAD_H_

#include "absl/status/statusor.h"
#include "bench/serving_bench_load.h"

namespace ember::bench {

// Streams `spec.requests` completions from `spec.clients` threads to 127.0.0.1:`port`. TTFT is
// the first chunk's arrival, inter-token latency spread over the tokens a chunk carried (the
// final usage chunk gives the count). FAILED_PRECONDITION if any request failed.
absl::StatusOr<LoadResult> RunHttpLoad(int port, const LoadSpec& spec);

}  // namespace ember::bench

#endif  // EMBER_BENCH_SERVING_BENCH_HTTP_LOAD_H_
