// Everything one soak run is configured by. main.cc binds the flags into it; nothing else reads
// flags.
#ifndef EMBER_TOOLS_SOAK_SOAK_OPTIONS_H_
#define EMBER_TOOLS_SOAK_SOAK_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client_options.h"
#include "tools/soak/load_generator.h"

namespace ember::soak {

struct SoakOptions {
  // The server's gRPC target, host:port.
  std::string address = "localhost:50051";
  // Channel settings: TLS and the bearer token.
  client::ClientOptions client;
  // Client count, request mix and request shapes.
  LoadOptions load;
  // How long clients keep starting requests. > 0.
  absl::Duration duration = absl::Seconds(60);
  // The server's process id, for RSS, thread and fd sampling; 0 means none (those figures and
  // the process-alive check are skipped).
  int server_pid = 0;
  // The server's metrics endpoint, host:port[/path]; empty means none (the KV-cache and queue
  // checks are then skipped and reported as such).
  std::string metrics_url;
  // Per-second samples are written here as CSV; empty means no file.
  std::string csv_path;
  // After the load: how long in-flight streams may take to end, and then the server's KV blocks
  // in use, waiting and running gauges to return to 0. At least twice the longest slow read
  // (max_new_tokens x slow_read_delay_ms) when the mix has slow readers.
  absl::Duration drain_timeout = absl::Seconds(30);
  // Time between samples. > 0.
  absl::Duration sample_period = absl::Seconds(1);
  // Fail when the RSS slope over the second half of the load exceeds this many MB per minute;
  // 0 means report it without a limit.
  double max_rss_slope_mb_per_minute = 0;
  // A progress line on stderr this often during the load; zero means none.
  absl::Duration progress_period = absl::Seconds(10);
};

// INVALID_ARGUMENT naming the offending field (flag) when a value is out of range.
absl::Status ValidateSoakOptions(const SoakOptions& options);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_SOAK_OPTIONS_H_
