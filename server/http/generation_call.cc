#include "server/http/generation_call.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "server/http/connection_watch.h"

namespace ember::http {

namespace {

// What an event pins in memory until the handler takes it: its text and per-token data.
int64_t EventBytes(const GenerationEvent& e) {
  int64_t bytes = static_cast<int64_t>(e.text.size() + e.tokens.size() * sizeof(int32_t));
  for (const SampledToken& s : e.logprobs) bytes += 16 + 8 * static_cast<int64_t>(s.top.size());
  return bytes;
}

}  // namespace

struct GenerationCall::Shared {
  Engine* engine = nullptr;
  int64_t max_buffered_bytes = 0;

  absl::Mutex mu;
  // Null once the call is gone: later events (a cancel's final one) are not counted.
  Metrics* metrics ABSL_GUARDED_BY(mu) = nullptr;
  std::vector<GenerationEvent> events ABSL_GUARDED_BY(mu);
  int64_t buffered_bytes ABSL_GUARDED_BY(mu) = 0;
  RequestHandle id ABSL_GUARDED_BY(mu) = 0;
  bool slow_reader ABSL_GUARDED_BY(mu) = false;
  bool aborted ABSL_GUARDED_BY(mu) = false;

  // Runs on the engine's loop thread.
  void OnEvent(const GenerationEvent& event) {
    int64_t added = EventBytes(event);
    bool cancel = false;
    RequestHandle cancel_id = 0;
    Metrics* m = nullptr;
    {
      absl::MutexLock lock(&mu);
      m = metrics;
      if (m == nullptr) added = 0;
      events.push_back(event);
      buffered_bytes += added;
      if (!event.finished && !slow_reader && buffered_bytes > max_buffered_bytes) {
        slow_reader = true;
        cancel = id != 0;  // not yet known: Submit's caller cancels when it returns
        cancel_id = id;
      }
    }
    if (m != nullptr) {
      if (added != 0) m->AddStreamBufferedBytes(added);
      if (cancel) m->OnSlowReaderCancelled();
    }
    if (cancel) engine->Cancel(cancel_id);
  }
};

GenerationCall::GenerationCall(Engine* engine, int fd, int64_t max_buffered_bytes, Metrics* metrics)
    : engine_(engine), fd_(fd), shared_(std::make_shared<Shared>()) {
  shared_->engine = engine;
  shared_->max_buffered_bytes = max_buffered_bytes;
  absl::MutexLock lock(&shared_->mu);
  shared_->metrics = metrics;
}

GenerationCall::~GenerationCall() {
  if (submitted_ && !finished_) Cancel();
  absl::MutexLock lock(&shared_->mu);
  if (shared_->metrics != nullptr && shared_->buffered_bytes != 0) {
    shared_->metrics->AddStreamBufferedBytes(-shared_->buffered_bytes);
  }
  // Events still to come (the cancel's final one) are no longer counted.
  shared_->metrics = nullptr;
  shared_->buffered_bytes = 0;
}

absl::Status GenerationCall::Submit(GenerationRequest request) {
  std::shared_ptr<Shared> shared = shared_;
  absl::StatusOr<RequestHandle> id = engine_->Submit(
      std::move(request), [shared](const GenerationEvent& event) { shared->OnEvent(event); });
  if (!id.ok()) return id.status();
  submitted_ = true;
  bool cancel_now = false;
  Metrics* metrics = nullptr;
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->id = *id;
    cancel_now = shared_->slow_reader;
    metrics = shared_->metrics;
  }
  if (cancel_now) {
    if (metrics != nullptr) metrics->OnSlowReaderCancelled();
    engine_->Cancel(*id);
  }
  return absl::OkStatus();
}

std::vector<GenerationEvent> GenerationCall::Next() {
  std::vector<GenerationEvent> taken;
  Shared& s = *shared_;
  while (true) {
    int64_t released = 0;
    Metrics* metrics = nullptr;
    {
      absl::MutexLock lock(&s.mu);
      auto ready = [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
        return !s.events.empty() || s.aborted;
      };
      s.mu.AwaitWithTimeout(absl::Condition(&ready), kWatchInterval);
      if (s.aborted) return {};
      if (!s.events.empty()) {
        taken.swap(s.events);
        released = s.buffered_bytes;
        s.buffered_bytes = 0;
        metrics = s.metrics;
      }
    }
    if (released != 0 && metrics != nullptr) metrics->AddStreamBufferedBytes(-released);
    if (!taken.empty()) {
      if (taken.back().finished) finished_ = true;
      return taken;
    }
    if (PeerClosed(fd_)) {
      client_gone_ = true;
      Cancel();
      return {};
    }
  }
}

void GenerationCall::Cancel() {
  if (!submitted_ || finished_) return;
  engine_->Cancel(id());
}

void GenerationCall::Abort() {
  absl::MutexLock lock(&shared_->mu);
  shared_->aborted = true;
}

RequestHandle GenerationCall::id() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->id;
}

bool GenerationCall::slow_reader() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->slow_reader;
}

}  // namespace ember::http
