// The closed-loop load of a soak: N client threads, each sending one streaming request after
// another (kind drawn from the mix) until the load ends, then finishing the call it has in flight.
#ifndef EMBER_TOOLS_SOAK_LOAD_GENERATOR_H_
#define EMBER_TOOLS_SOAK_LOAD_GENERATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/call_handle.h"
#include "client/ember_client.h"
#include "tools/soak/request_mix.h"
#include "tools/soak/request_plan.h"
#include "tools/soak/soak_tally.h"

namespace ember::soak {

struct LoadOptions {
  // Client threads, each with one request in flight at a time. >= 1.
  int clients = 8;
  RequestMix mix;
  RequestShape shape;
  // Seeds every client's generator (client i uses seed + i), so a run's requests can be replayed.
  uint64_t seed = 1;
};

// Live counters, readable while the load runs.
struct LoadProgress {
  int64_t started = 0;
  int64_t ended = 0;   // ended with a status, or abandoned after the drain timeout
  int64_t tokens = 0;  // token ids received so far, in-flight streams included
  int64_t in_flight() const { return started - ended; }
};

// Thread-safe. Owns its client threads; the destructor stops and joins them (cancelling any call
// still in flight), so it never outlives `client`.
class LoadGenerator {
 public:
  // `client` must outlive this object.
  LoadGenerator(const client::EmberClient& client, LoadOptions options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Starts the client threads; none starts a new request at or after `end`. Call once.
  void Start(absl::Time end);

  // Ends the load now: no client starts another request (the server died, say). Calls in
  // flight run on.
  void EndNow();

  // Waits until every client thread has finished its last call, or `timeout` passes. True when
  // all finished.
  bool WaitForIdle(absl::Duration timeout);

  // Cancels the calls still in flight (they then end with CANCELLED, counted as abandoned rather
  // than as outcomes) and joins the threads. Returns how many calls were abandoned.
  int64_t AbandonAndJoin();

  LoadProgress progress() const;
  SoakTally tally() const;

 private:
  void RunClient(int index);

  const client::EmberClient& client_;
  const LoadOptions options_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> tokens_{0};

  mutable absl::Mutex mu_;
  absl::Time end_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t started_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t ended_ ABSL_GUARDED_BY(mu_) = 0;
  int running_clients_ ABSL_GUARDED_BY(mu_) = 0;
  bool abandoning_ ABSL_GUARDED_BY(mu_) = false;
  int64_t abandoned_ ABSL_GUARDED_BY(mu_) = 0;
  // Each client's current call, null between calls; Abandon cancels through them.
  std::vector<std::shared_ptr<client::CallHandle>> in_flight_ ABSL_GUARDED_BY(mu_);
  SoakTally tally_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ember::soak

#endif  // EMBER_TOOLS_SOAK_LOAD_GENERATOR_H_
