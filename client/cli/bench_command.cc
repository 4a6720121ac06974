// ember_cli bench: M streaming requests, N in flight, then a report (text or --json) on stdout.
// Exits 1 when any request failed, so scripts notice errors without parsing the report.
#include <cstdio>

#include "client/cli/bench_report.h"
#include "client/cli/bench_runner.h"
#include "client/cli/command.h"

namespace ember::client {

int RunBenchCommand(const CommonArgs& common) {
  const absl::StatusOr<BenchOptions> options = BenchOptionsFromFlags(common);
  if (!options.ok()) return Fail("bench", options.status());
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("bench", client.status());
  const absl::StatusOr<BenchResult> result = RunBench(**client, *options);
  if (!result.ok()) return Fail("bench", result.status());

  const std::string report =
      common.json ? FormatBenchJson(*options, *result) : FormatBenchText(*options, *result);
  std::fputs(report.c_str(), stdout);
  return result->requests_failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace ember::client
