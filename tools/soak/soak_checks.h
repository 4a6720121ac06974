// The pass/fail verdicts of a soak run.
#ifndef EMBER_TOOLS_SOAK_SOAK_CHECKS_H_
#define EMBER_TOOLS_SOAK_SOAK_CHECKS_H_

#include <string>
#include <vector>

#include "tools/soak/resource_stats.h"
#include "tools/soak/soak_run.h"

namespace ember::soak {

enum class Verdict { kPass, kFail, kSkipped };

struct Check {
  std::string name;
  Verdict verdict = Verdict::kPass;
  // The figures behind the verdict, or why it was skipped.
  std::string detail;
};

// In report order:
//   every stream ended with a status  started == ended, none abandoned at the drain timeout
//   no unexpected status              every ending allowed for its kind (expected_status.h)
//   requests were served              at least one stream ended OK
//   KV blocks in use back to 0        } the server's gauges after the drain wait
//   waiting queue back to 0           }   (skipped without --metrics_url)
//   running requests back to 0        }
//   server process alive              (skipped without --server_pid)
//   server SERVING after the run
//   RSS slope within limit            (skipped without --max_rss_slope_mb_per_min)
std::vector<Check> EvaluateChecks(const SoakRun& run, const ResourceStats& resources);

// True when no check failed (skipped ones do not count).
bool AllPassed(const std::vector<Check>& checks);

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_SOAK_CHECKS_H_
