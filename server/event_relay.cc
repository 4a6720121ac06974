#include "server/event_relay.h"

#include <utility>

#include "absl/synchronization/notification.h"

namespace ember {

EventRelay::EventRelay() : thread_([this] { Run(); }) {}

EventRelay::~EventRelay() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void EventRelay::Post(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void EventRelay::Flush() {
  absl::Notification done;
  Post([&done] { done.Notify(); });
  done.WaitForNotification();
}

void EventRelay::Run() {
  std::deque<absl::AnyInvocable<void() &&>> batch;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !tasks_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (tasks_.empty()) return;  // stop_, and everything posted has run
      batch.swap(tasks_);
    }
    for (auto& task : batch) std::move(task)();
    batch.clear();
  }
}

}  // namespace ember
