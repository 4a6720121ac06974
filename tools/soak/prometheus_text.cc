#include "tools/soak/prometheus_text.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ember::soak {
namespace {

// Parses the labels of `{a="x",b="y"}` after the opening brace, unescaping backslash escapes in
// values (a backslash-n becomes a newline); advances `rest` past the closing brace. False when
// malformed.
bool ParseLabels(absl::string_view& rest, std::map<std::string, std::string>& labels) {
  for (;;) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (absl::ConsumePrefix(&rest, "}")) return true;
    const size_t eq = rest.find('=');
    if (eq == absl::string_view::npos) return false;
    const std::string key(absl::StripAsciiWhitespace(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    if (!absl::ConsumePrefix(&rest, "\"")) return false;
    std::string value;
    bool closed = false;
    while (!rest.empty()) {
      const char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\' && !rest.empty()) {
        const char e = rest.front();
        rest.remove_prefix(1);
        value += e == 'n' ? '\n' : e;
      } else {
        value += c;
      }
    }
    if (!closed) return false;
    labels[key] = std::move(value);
    rest = absl::StripLeadingAsciiWhitespace(rest);
    absl::ConsumePrefix(&rest, ",");
  }
}

bool ParseValue(absl::string_view text, double& value) {
  text = absl::StripAsciiWhitespace(text);
  if (text == "+Inf") {
    value = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    value = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return absl::SimpleAtod(text, &value);
}

}  // namespace

std::vector<PrometheusSample> ParsePrometheusText(absl::string_view text) {
  std::vector<PrometheusSample> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    PrometheusSample sample;
    const size_t name_end = line.find_first_of("{ \t");
    if (name_end == absl::string_view::npos || name_end == 0) continue;
    sample.name = std::string(line.substr(0, name_end));
    absl::string_view rest = line.substr(name_end);
    if (absl::ConsumePrefix(&rest, "{") && !ParseLabels(rest, sample.labels)) continue;
    // "<value>" or "<value> <timestamp>".
    const std::vector<absl::string_view> fields =
        absl::StrSplit(absl::StripAsciiWhitespace(rest), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.empty() || fields.size() > 2 || !ParseValue(fields[0], sample.value)) continue;
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> SumSamples(const std::vector<PrometheusSample>& samples,
                                 absl::string_view name,
                                 const std::map<std::string, std::string>& match) {
  std::optional<double> sum;
  for (const PrometheusSample& s : samples) {
    if (s.name != name) continue;
    bool matches = true;
    for (const auto& [key, value] : match) {
      const auto it = s.labels.find(key);
      if (it == s.labels.end() || it->second != value) {
        matches = false;
        break;
      }
    }
    if (matches) sum = sum.value_or(0.0) + s.value;
  }
  return sum;
}

}  // namespace ember::soak
