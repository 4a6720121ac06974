// Health as Kubernetes and load balancers see it, through the standard grpc.health.v1 service:
//   ""  and "ember.v1.Generation"  readiness: SERVING once the model is loaded and warmed up,
//                                  NOT_SERVING while loading, draining, or stalled;
//   "liveness"                     NOT_SERVING when the engine loop has pending work but has not
//                                  completed a step within the stall timeout (a heartbeat
//                                  watchdog), so an orchestrator restarts a wedged process.
#ifndef EMBER_SERVER_HEALTH_H_
#define EMBER_SERVER_HEALTH_H_

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/engine/clock.h"
#include "core/engine/engine.h"
#include "grpcpp/health_check_service_interface.h"

namespace ember {

inline constexpr char kLivenessService[] = "liveness";
inline constexpr char kGenerationService[] = "ember.v1.Generation";

class HealthReporter {
 public:
  // `health` is the server's default health service (not owned).
  explicit HealthReporter(grpc::HealthCheckServiceInterface* health);
  ~HealthReporter();

  // The model is loaded and warm: readiness SERVING; starts watching `engine` for stalls.
  void SetReady(Engine* engine, absl::Duration stall_timeout, const Clock* clock);
  // Shutdown begins: every service NOT_SERVING for good; the watchdog's checks return at once
  // from then on (its thread ends with this object).
  void SetDraining();

  // One watchdog evaluation (the thread calls it every stall_timeout / 4); exposed for tests.
  void CheckOnce();

 private:
  void Set(bool ready, bool live);

  grpc::HealthCheckServiceInterface* health_;
  absl::Mutex mu_;
  Engine* engine_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Duration stall_timeout_ ABSL_GUARDED_BY(mu_);
  const Clock* clock_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stalled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification stop_;
  std::thread watchdog_;
};

}  // namespace ember

#endif  // EMBER_SERVER_HEALTH_H_
