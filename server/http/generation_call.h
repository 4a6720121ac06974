// One engine request as an HTTP handler follows it.
//
// The engine runs the event callback on its loop thread, which must stay on its step: the
// callback only appends the event to this call's queue. The connection's thread (cpp-httplib runs
// each connection on one pool thread) takes the events, formats and writes them. While it waits it
// also watches the socket, so a client that disconnects has its request cancelled within
// kWatchInterval, and its KV blocks freed at the engine's next step.
//
// Output a client does not read piles up in the queue while the thread is blocked writing: once it
// holds more than max_buffered_bytes the request is cancelled from the callback (the gRPC
// stream's slow-reader rule, same limit).
//
// Thread-safety: the callback runs on the engine's thread; everything else on the handler's.
// The state the callback touches is shared (shared_ptr), so it may outlive the call.
#ifndef EMBER_SERVER_HTTP_GENERATION_CALL_H_
#define EMBER_SERVER_HTTP_GENERATION_CALL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/engine/engine.h"
#include "core/engine/request.h"
#include "server/metrics.h"

namespace ember::http {

// How often a waiting handler checks its socket.
inline constexpr absl::Duration kWatchInterval = absl::Milliseconds(20);

class GenerationCall {
 public:
  // `fd`: the connection's socket (-1: not watched). `metrics` may be null.
  GenerationCall(Engine* engine, int fd, int64_t max_buffered_bytes, Metrics* metrics);
  // Cancels the request if it has not finished (the handler gave up on it).
  ~GenerationCall();
  GenerationCall(const GenerationCall&) = delete;
  GenerationCall& operator=(const GenerationCall&) = delete;

  // Engine::Submit's result: the engine's refusal (INVALID_ARGUMENT naming the field, queue full,
  // shutting down) as is.
  absl::Status Submit(GenerationRequest request);

  // Blocks until events are pending, then returns them in order (the last one finished ==
  // true at the end). Returns an empty vector when the client disconnected first (the request is
  // then cancelled), or when the call was aborted (Abort).
  std::vector<GenerationEvent> Next();

  // Cancels the request (the handler cannot deliver its output: a failed write).
  void Cancel();
  // From any thread: wake Next() and make it return empty (the drain's end).
  void Abort();

  RequestHandle id() const;
  bool finished() const { return finished_; }
  bool client_gone() const { return client_gone_; }
  // The request was cancelled because its client did not read (counted in Metrics).
  bool slow_reader() const;
  int fd() const { return fd_; }

 private:
  struct Shared;

  Engine* const engine_;
  const int fd_;
  std::shared_ptr<Shared> shared_;
  bool submitted_ = false;
  bool finished_ = false;
  bool client_gone_ = false;
};

}  // namespace ember::http

#endif  // EMBER_SERVER_HTTP_GENERATION_CALL_H_
