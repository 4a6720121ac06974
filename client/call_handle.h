// CallHandle: cancels an EmberClient call from another thread.
#ifndef EMBER_CLIENT_CALL_HANDLE_H_
#define EMBER_CLIENT_CALL_HANDLE_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace ember::client {

// A one-shot cancel token. Pass it in CallOptions::handle; any thread may then call Cancel() while
// the call runs, and the call returns CANCELLED. Cancel() before the call starts makes the call
// return CANCELLED without contacting the server; once cancelled a handle stays cancelled, so use a
// fresh handle per call. Thread-safe.
class CallHandle {
 public:
  CallHandle() = default;
  CallHandle(const CallHandle&) = delete;
  CallHandle& operator=(const CallHandle&) = delete;

  // Cancels the attached call (if any) and every later one using this handle. Idempotent; never
  // blocks on the network.
  void Cancel();
  bool cancelled() const;

 private:
  friend class ScopedCallAttachment;

  // Binds `context` for the duration of a call; false when already cancelled (the call must not
  // start). One call at a time.
  bool Attach(grpc::ClientContext* context);
  void Detach();

  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // The running call's context; null between calls. The caller of Attach keeps it alive until
  // Detach, and Detach takes mu_, so Cancel never touches a destroyed context.
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Attaches a context to a (possibly null) handle for one call's scope.
class ScopedCallAttachment {
 public:
  ScopedCallAttachment(CallHandle* handle, grpc::ClientContext* context);
  ~ScopedCallAttachment();
  ScopedCallAttachment(const ScopedCallAttachment&) = delete;
  ScopedCallAttachment& operator=(const ScopedCallAttachment&) = delete;

  // False when the handle was cancelled before the call could start.
  bool ok() const { return attached_ || handle_ == nullptr; }

 private:
  CallHandle* handle_;
  bool attached_ = false;
};

}  // namespace ember::client

#endif  // EMBER_CLIENT_CALL_HANDLE_H_
