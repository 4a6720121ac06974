// Finds stop strings in generated text as it streams, across token boundaries, and holds back only
// the text that could still turn out to be the start of a stop string, so the caller never sees
// any part of a stop string.
#ifndef EMBER_CORE_ENGINE_STOP_MATCHER_H_
#define EMBER_CORE_ENGINE_STOP_MATCHER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ember {

class StopMatcher {
 public:
  // Empty strings in `stops` are ignored (the request validator rejects them before this).
  explicit StopMatcher(std::vector<std::string> stops);

  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string matched; `text` ends right before it
    std::string matched;   // the stop string that matched
  };

  // Appends newly decoded text (valid UTF-8). After a match, further calls return nothing.
  Result Push(absl::string_view text);

  // End of stream without a match: the held-back text.
  std::string Flush();

 private:
  std::vector<std::string> stops_;
  size_t longest_ = 0;
  std::string pending_;  // text not yet emitted
  bool stopped_ = false;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_STOP_MATCHER_H_
