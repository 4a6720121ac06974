#include "client/call_handle.h"

#include <grpcpp/client_context.h>

namespace ember::client {

void CallHandle::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  // TryCancel is thread-safe and only schedules the cancellation, so holding mu_ here cannot
  // deadlock with the thread blocked inside the call.
  if (context_ != nullptr) context_->TryCancel();
}

bool CallHandle::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CallHandle::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void CallHandle::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

ScopedCallAttachment::ScopedCallAttachment(CallHandle* handle, grpc::ClientContext* context)
    : handle_(handle) {
  if (handle_ != nullptr) attached_ = handle_->Attach(context);
}

ScopedCallAttachment::~ScopedCallAttachment() {
  if (attached_) handle_->Detach();
}

}  // namespace ember::client
