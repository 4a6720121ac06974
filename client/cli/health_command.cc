// ember_cli health: prints the serving status; exit 0 only when SERVING, so it can be a Docker
// HEALTHCHECK or a readiness probe as is.
#include <cstdio>

#include "client/cli/bench_report.h"
#include "client/cli/command.h"

namespace ember::client {
namespace {

// Used when --deadline is 0: a probe against a hung server must fail rather than hang (Docker's
// own HEALTHCHECK timeout defaults to 30 s and would otherwise be the only bound).
constexpr absl::Duration kDefaultHealthDeadline = absl::Seconds(5);

}  // namespace

int RunHealthCommand(const CommonArgs& common) {
  const std::string service = HealthServiceFromFlags();
  CallOptions call_options = common.call_options;
  if (call_options.deadline == absl::ZeroDuration()) call_options.deadline = kDefaultHealthDeadline;

  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("health", client.status());
  const absl::StatusOr<ServingStatus> status = (*client)->Health(service, call_options);
  if (!status.ok()) return FailCall(common, "health", status.status());

  const std::string name = ServingStatusName(*status);
  if (common.json) {
    std::printf("{\"service\":%s,\"status\":%s}\n", JsonQuote(service).c_str(),
                JsonQuote(name).c_str());
  } else {
    std::printf("%s\n", name.c_str());
  }
  return *status == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk : kExitFailure;
}

}  // namespace ember::client
