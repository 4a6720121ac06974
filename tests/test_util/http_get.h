// A minimal HTTP/1.0 GET over a loopback TCP socket, for fetching /metrics in tests.
#ifndef EMBER_TESTS_TEST_UTIL_HTTP_GET_H_
#define EMBER_TESTS_TEST_UTIL_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace ember::testing {

// The response body of GET http://127.0.0.1:<port><path>. UNAVAILABLE when the connection fails;
// INTERNAL for a non-200 status.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

// The value of an unlabelled or exactly-labelled sample in Prometheus text format, e.g.
// MetricValue(text, "ember_requests_total{finish_reason=\"eos\"}"). NaN when absent.
double MetricValue(const std::string& text, const std::string& series);

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_HTTP_GET_H_
