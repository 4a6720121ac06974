// The thread that turns engine events into gRPC responses.
//
// The engine's loop thread runs every request's event callback and must stay on its step: it
// never builds protos, formats logprob strings, logs or calls into gRPC for a request. The
// generation reactors' callbacks only Post the event here; this thread builds and writes the
// messages, in the order posted (so each request's events keep their order).
//
// Thread-safety: Post from any thread. Tasks run one at a time on the relay's thread and must not
// block (gRPC writes are asynchronous). The destructor runs the tasks already posted, then joins.
#ifndef EMBER_SERVER_EVENT_RELAY_H_
#define EMBER_SERVER_EVENT_RELAY_H_

#include <deque>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace ember {

class EventRelay {
 public:
  EventRelay();
  ~EventRelay();
  EventRelay(const EventRelay&) = delete;
  EventRelay& operator=(const EventRelay&) = delete;

  void Post(absl::AnyInvocable<void() &&> task);
  // Returns once every task posted before the call has run. Not from the relay's own thread.
  void Flush();

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ember

#endif  // EMBER_SERVER_EVENT_RELAY_H_
