// A minimal HTTP/1.0 GET, enough to fetch a Prometheus /metrics page. Not a general client: no
// TLS, redirects or chunked encoding (HTTP/1.0 responses are delimited by the connection close).
#ifndef EMBER_TOOLS_SOAK_HTTP_GET_H_
#define EMBER_TOOLS_SOAK_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ember::soak {

// The body of GET http://<host>:<port><path>. `host` is a name or an IPv4/IPv6 literal. The
// whole exchange (resolve excluded) is bounded by `timeout`, so a hung endpoint cannot stall the
// sampler. UNAVAILABLE when the connection fails, DEADLINE_EXCEEDED on timeout, INTERNAL for a
// malformed or non-200 response; every message names the URL.
absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path,
                                    absl::Duration timeout);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_HTTP_GET_H_
