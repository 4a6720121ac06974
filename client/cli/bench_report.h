// Renders a BenchResult for people (aligned text) or scripts (one JSON object).
#ifndef EMBER_CLIENT_CLI_BENCH_REPORT_H_
#define EMBER_CLIENT_CLI_BENCH_REPORT_H_

#include <string>

#include "client/cli/bench_runner.h"

namespace ember::client {

// Multi-line text ending in a newline: requests, throughput, TTFT and inter-token percentiles in
// milliseconds, errors by code.
std::string FormatBenchText(const BenchOptions& options, const BenchResult& result);

// One JSON object and a newline. Times in seconds; a summary of no samples has count 0 and null
// statistics. Keys: requests, concurrency, requests_ok, requests_failed, wall_seconds,
// requests_per_second, generated_tokens, tokens_per_second, ttft_seconds{count,mean,min,p50,p90,
// p99,max}, itl_seconds{...}, errors{CODE: {count, first_message}}.
std::string FormatBenchJson(const BenchOptions& options, const BenchResult& result);

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view text);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_BENCH_REPORT_H_
