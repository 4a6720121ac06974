// ember_cli: a command-line client for ember, built only on the client library.
//
//   ember_cli <generate|tokenize|detokenize|models|health|bench|perplexity> [flags]
//
// This file only dispatches: flags live in flags.cc, each subcommand in its own file.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/command.h"
#include "client/cli/flags.h"

namespace ember::client {
namespace {

constexpr char kUsage[] =
    R"(a command-line client for the ember text-generation server.

usage: ember_cli <command> [flags]

commands:
  generate --prompt=TEXT [--stream] [--max_new_tokens=N] [sampling flags | beam search flags]
      Prints the completion on stdout (--stream: piece by piece as it arrives), then a summary
      on stderr: finish reason, tokens, time to first token, decode tokens/s. --logprobs and
      --prompt_logprobs print log-probabilities on stderr (--prompt_logprobs with
      --max_new_tokens=0 only scores the prompt).
      Translation models (`models` shows encoder_decoder): --prompt is the source text and the
      completion its translation. Beam search: --num_beams=N (> 1 turns it on) with
      --length_penalty, --early_stopping=false|true|never, --no_repeat_ngram_size and
      --num_return_sequences=K (K > 1 also prints K "<score><TAB><text>" lines, best first).
  tokenize --prompt=TEXT [--add_special_tokens]
      Prints the prompt's token ids, one "<id><TAB><token>" line each; a token is shown as text,
      with C escapes (\t, \n, \\, \xNN) for control characters, backslashes and bytes that are
      not UTF-8, so each stays on its line.
  detokenize --token_ids=ID,ID,... [--skip_special_tokens]
      Prints the text the ids decode to (special tokens included unless --skip_special_tokens).
  models
      Lists the served models; the default one is marked.
  health [--service=NAME]
      Prints the serving status (grpc.health.v1); exit status 0 only when SERVING.
  bench [--prompt=TEXT] [--concurrency=N] [--requests=M] [--max_new_tokens=K] [--json]
      Sends M streaming requests of TEXT (default "Once upon a time"), N at a time, and reports
      requests/s, generated tokens/s, time to first token and inter-token latency (p50/p99,
      measured here from piece arrival times) and errors by status code. Exit status 1 if any
      request failed.
  perplexity --file=TEXT [--context=N] [--stride=S] [--json]
      Scores the file's text under the model through the server (prompt log-probabilities) with
      Hugging Face's strided sliding window: windows of N tokens (default: the model's context)
      advancing by S (default N/2), each token scored once with up to N-S tokens of context.
      Prints tokens scored, mean negative log-likelihood, perplexity and tokens/s; a progress
      bar on stderr when it is a terminal.

common flags: --target (default localhost:50051; also dns:///host:port), --lb_policy
  (pick_first or round_robin), --deadline, --tls, --tls_ca, --tls_cert, --tls_key,
  --tls_server_name, --token (or $EMBER_TOKEN), --json.
exit status: 0 on success, 1 on any error (a usage error, a failed call, health not SERVING).

examples:
  ember_cli generate --prompt="Once upon a time" --max_new_tokens=64 --temperature=0 --stream
  ember_cli generate --prompt="How are you?" --num_beams=4 --num_return_sequences=2
  ember_cli detokenize --token_ids=1,424,439 --skip_special_tokens
  ember_cli health --target=ember:50051 --service=ember.v1.Generation
  ember_cli perplexity --file=heldout.txt --context=256 --stride=128
  ember_cli bench --concurrency=8 --requests=64 --prompt=Hello --max_new_tokens=128 --json
  ember_cli generate --target=dns:///ember-headless.default.svc.cluster.local:50051 \
      --lb_policy=round_robin --prompt=Hello)";

// --help lists the flags defined under client/cli/ (absl's default would only show flags from a
// file named after the binary).
void ConfigureHelp() {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "client/cli/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.normalize_filename = [](absl::string_view file) {
    const size_t at = file.find("client/cli/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(kUsage);
}

int Main(int argc, char** argv) {
  ConfigureHelp();
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  const std::string commands = absl::StrJoin(kCommands, ", ");
  if (positional.size() < 2) {
    std::fprintf(stderr, "ember_cli: missing command; one of %s (see --help)\n", commands.c_str());
    return kExitFailure;
  }
  const std::string command = positional[1];
  if (positional.size() > 2) {
    std::fprintf(stderr, "ember_cli: %s: unexpected argument \"%s\" (flags are --name=value)\n",
                 command.c_str(), positional[2]);
    return kExitFailure;
  }
  bool known = false;
  for (absl::string_view name : kCommands) known = known || name == command;
  if (!known) {
    std::fprintf(stderr, "ember_cli: unknown command \"%s\"; one of %s (see --help)\n",
                 command.c_str(), commands.c_str());
    return kExitFailure;
  }
  if (absl::Status status = CheckFlagsApply(command, absl::MakeConstSpan(argv, argc));
      !status.ok()) {
    return Fail(command, status);
  }
  const absl::StatusOr<CommonArgs> common = CommonArgsFromFlags();
  if (!common.ok()) return Fail(command, common.status());

  if (command == "generate") return RunGenerateCommand(*common);
  if (command == "tokenize") return RunTokenizeCommand(*common);
  if (command == "detokenize") return RunDetokenizeCommand(*common);
  if (command == "models") return RunModelsCommand(*common);
  if (command == "health") return RunHealthCommand(*common);
  if (command == "perplexity") return RunPerplexityCommand(*common);
  return RunBenchCommand(*common);
}

}  // namespace
}  // namespace ember::client

int main(int argc, char** argv) { return ember::client::Main(argc, argv); }
