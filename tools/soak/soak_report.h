// The human-readable summary of a soak run and the CSV of its samples.
#ifndef EMBER_TOOLS_SOAK_SOAK_REPORT_H_
#define EMBER_TOOLS_SOAK_SOAK_REPORT_H_

#include <string>
#include <vector>

#include "tools/soak/monitor_sample.h"
#include "tools/soak/resource_stats.h"
#include "tools/soak/soak_checks.h"
#include "tools/soak/soak_run.h"

namespace ember::soak {

// Requests per kind and status, tokens, rates, the server's resources (start/end/max, RSS slope),
// the drain, unexpected endings and the checks, ending in "RESULT: PASS" or "RESULT: FAIL".
std::string FormatReport(const SoakRun& run, const ResourceStats& resources,
                         const std::vector<Check>& checks);

// One header line, then one line per sample: t_seconds, phase, rss_mb, threads, open_fds,
// kv_blocks_used, requests_waiting, requests_running, streams_started, streams_ended,
// streams_in_flight, tokens_received. Figures that were not sampled are empty fields.
std::string FormatCsv(const std::vector<MonitorSample>& samples);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_SOAK_REPORT_H_
