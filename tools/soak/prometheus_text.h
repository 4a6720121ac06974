// Reads samples out of the Prometheus text exposition format (what /metrics serves).
#ifndef EMBER_TOOLS_SOAK_PROMETHEUS_TEXT_H_
#define EMBER_TOOLS_SOAK_PROMETHEUS_TEXT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ember::soak {

struct PrometheusSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Every sample line of `text` (comments and blank lines skipped; an optional timestamp after the
// value ignored). Lines that do not parse are skipped: a scrape is best-effort, and a missing
// series is reported by whoever needs it.
std::vector<PrometheusSample> ParsePrometheusText(absl::string_view text);

// The sum of the samples named `name` whose labels include every entry of `match` (an empty
// `match` sums them all); nullopt when no sample matches.
std::optional<double> SumSamples(const std::vector<PrometheusSample>& samples,
                                 absl::string_view name,
                                 const std::map<std::string, std::string>& match = {});

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_PROMETHEUS_TEXT_H_
