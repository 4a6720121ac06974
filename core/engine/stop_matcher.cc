#include "core/engine/stop_matcher.h"

#include <algorithm>

namespace ember {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (s.empty()) continue;
    longest_ = std::max(longest_, s.size());
    stops_.push_back(std::move(s));
  }
}

StopMatcher::Result StopMatcher::Push(absl::string_view text) {
  Result result;
  if (stopped_) return result;
  pending_.append(text.data(), text.size());
  if (stops_.empty()) {
    result.text = std::move(pending_);
    pending_.clear();
    return result;
  }
  // Earliest full match wins (ties: the longer stop string, i.e. first found at that position).
  size_t best = std::string::npos;
  const std::string* best_stop = nullptr;
  for (const std::string& stop : stops_) {
    const size_t at = pending_.find(stop);
    if (at != std::string::npos && (at < best || (at == best && stop.size() > best_stop->size()))) {
      best = at;
      best_stop = &stop;
    }
  }
  if (best_stop != nullptr) {
    stopped_ = true;
    result.stopped = true;
    result.matched = *best_stop;
    result.text = pending_.substr(0, best);
    pending_.clear();
    return result;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string. Such a suffix starts
  // at a UTF-8 character boundary because stop strings do.
  size_t hold = 0;
  const size_t max_hold = std::min(pending_.size(), longest_ - 1);
  for (size_t len = max_hold; len > 0; --len) {
    const absl::string_view suffix = absl::string_view(pending_).substr(pending_.size() - len);
    const bool is_prefix = std::any_of(stops_.begin(), stops_.end(), [&](const std::string& s) {
      return s.size() > len && absl::string_view(s).substr(0, len) == suffix;
    });
    if (is_prefix) {
      hold = len;
      break;
    }
  }
  result.text = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return result;
}

std::string StopMatcher::Flush() {
  if (stopped_) return "";
  std::string out = std::move(pending_);
  pending_.clear();
  return out;
}

}  // namespace ember
