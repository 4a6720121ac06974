// What ember_cli's subcommands share: their entry points, error reporting and connection set-up.
// Exit codes: 0 success (health: SERVING), 1 anything else, including usage errors, so that a
// Docker HEALTHCHECK sees only 0 or 1.
#ifndef EMBER_CLIENT_CLI_COMMAND_H_
#define EMBER_CLIENT_CLI_COMMAND_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/flags.h"
#include "client/ember_client.h"
#include "google/protobuf/message.h"

namespace ember::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;

// Subcommands; each returns the process exit code.
int RunGenerateCommand(const CommonArgs& common);
int RunTokenizeCommand(const CommonArgs& common);
int RunDetokenizeCommand(const CommonArgs& common);
int RunModelsCommand(const CommonArgs& common);
int RunHealthCommand(const CommonArgs& common);
int RunBenchCommand(const CommonArgs& common);
int RunPerplexityCommand(const CommonArgs& common);

// Prints "ember_cli: <command>: <CODE>: <message>" on stderr and returns kExitFailure.
int Fail(absl::string_view command, const absl::Status& status);
// Fail for a failed call: UNAVAILABLE also names --target, since gRPC's message shows only the
// resolved address.
int FailCall(const CommonArgs& common, absl::string_view command, const absl::Status& status);

// The client for common.target; errors are configuration errors (the channel connects lazily).
absl::StatusOr<std::unique_ptr<EmberClient>> Connect(const CommonArgs& common);

// `message` as one line of JSON (proto field names, defaults included).
std::string ProtoToJson(const google::protobuf::Message& message);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_COMMAND_H_
