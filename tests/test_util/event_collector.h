// Collects one request's engine events (tokens, text, logprobs, the final reason and timings) for
// tests that drive an Engine.
#ifndef EMBER_TESTS_TEST_UTIL_EVENT_COLLECTOR_H_
#define EMBER_TESTS_TEST_UTIL_EVENT_COLLECTOR_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/engine/request.h"

namespace ember::testing {

// Collects one request's events; Wait() returns once the final event arrived.
class Collector {
 public:
  EventCallback Callback() {
    return [this](const GenerationEvent& e) {
      absl::MutexLock lock(&mu_);
      for (int32_t t : e.tokens) tokens_.push_back(t);
      text_ += e.text;
      for (const SampledToken& s : e.logprobs) logprobs_.push_back(s);
      for (const SampledToken& s : e.prompt_logprobs) prompt_logprobs_.push_back(s);
      if (!e.prompt_logprobs.empty()) prompt_logprobs_event_ = events_;
      ++events_;
      if (e.finished) {
        reason_ = e.finish_reason;
        timings_ = e.timings;
        done_.Notify();
      }
    };
  }
  void Wait() { done_.WaitForNotification(); }
  // Returns once `n` events have arrived.
  void WaitForEvents(int n) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return events_ >= n; };
    mu_.Await(absl::Condition(&arrived));
  }
  bool WaitFor(absl::Duration d) { return done_.WaitForNotificationWithTimeout(d); }
  std::vector<int32_t> tokens() {
    absl::MutexLock lock(&mu_);
    return tokens_;
  }
  std::string text() {
    absl::MutexLock lock(&mu_);
    return text_;
  }
  FinishReason reason() {
    absl::MutexLock lock(&mu_);
    return reason_;
  }
  int events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  RequestTimings timings() {
    absl::MutexLock lock(&mu_);
    return timings_;
  }
  std::vector<SampledToken> logprobs() {
    absl::MutexLock lock(&mu_);
    return logprobs_;
  }
  std::vector<SampledToken> prompt_logprobs() {
    absl::MutexLock lock(&mu_);
    return prompt_logprobs_;
  }
  // Index of the event that carried prompt log-probabilities (-1: none did).
  int prompt_logprobs_event() {
    absl::MutexLock lock(&mu_);
    return prompt_logprobs_event_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int32_t> tokens_;
  std::string text_;
  int events_ = 0;
  FinishReason reason_ = FinishReason::kNone;
  RequestTimings timings_;
  std::vector<SampledToken> logprobs_;
  std::vector<SampledToken> prompt_logprobs_;
  int prompt_logprobs_event_ = -1;
  absl::Notification done_;
};

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_EVENT_COLLECTOR_H_
