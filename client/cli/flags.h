// ember_cli's command-line flags. They are defined and read in flags.cc only; everything else gets
// plain structs (ClientOptions, requests, BenchOptions) built here.
#ifndef EMBER_CLIENT_CLI_FLAGS_H_
#define EMBER_CLIENT_CLI_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/cli/bench_runner.h"
#include "client/client_options.h"
#include "ember/v1/generation.pb.h"

namespace ember::client {

// What every subcommand gets from the common flags.
struct CommonArgs {
  std::string target;
  ClientOptions client_options;
  CallOptions call_options;
  // --json: machine-readable output.
  bool json = false;
};

struct PerplexityArgs {
  std::string file;
  std::string model;
  int64_t context = 0;  // 0: the model's context length
  int64_t stride = 0;   // 0: context / 2
};

struct GenerateArgs {
  ember::v1::GenerateRequest request;
  bool stream = false;
};

// The subcommands, in the order --help lists them.
inline constexpr absl::string_view kCommands[] = {"generate", "tokenize", "detokenize", "models",
                                                  "health",   "bench",    "perplexity"};

// Fails with INVALID_ARGUMENT when argv sets one of ember_cli's flags that `command` does not use
// (e.g. `health --prompt=x`), so a typo'd invocation is not silently half-obeyed. Flags unknown to
// ember_cli are left for absl's parser to report.
absl::Status CheckFlagsApply(absl::string_view command, absl::Span<char* const> argv);

// Reads --tls_ca/--tls_cert/--tls_key files; INVALID_ARGUMENT / NOT_FOUND name the flag and file.
absl::StatusOr<CommonArgs> CommonArgsFromFlags();
// --prompt (required), the sampling flags and the beam search flags.
absl::StatusOr<GenerateArgs> GenerateArgsFromFlags();
absl::StatusOr<ember::v1::TokenizeRequest> TokenizeRequestFromFlags();
// --token_ids (required, each an int32), --skip_special_tokens and --model.
absl::StatusOr<ember::v1::DetokenizeRequest> DetokenizeRequestFromFlags();
std::string HealthServiceFromFlags();
// --file (required), --context and --stride (>= 0; 0 picks the default) and --model.
absl::StatusOr<PerplexityArgs> PerplexityArgsFromFlags();
// The generation flags plus --concurrency and --requests; call_options from `common`. Without
// --prompt, the prompt is "Once upon a time".
absl::StatusOr<BenchOptions> BenchOptionsFromFlags(const CommonArgs& common);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_FLAGS_H_
