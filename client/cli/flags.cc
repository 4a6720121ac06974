#include "client/cli/flags.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/credential_files.h"

// Connection (every subcommand).
ABSL_FLAG(std::string, target, "localhost:50051",
          "Server address: host:port, or a gRPC target such as "
          "dns:///ember-headless.<namespace>.svc.cluster.local:50051");
ABSL_FLAG(std::string, lb_policy, "pick_first",
          "How calls spread over the addresses --target resolves to: pick_first (all to the first "
          "that connects) or round_robin (rotate over all, e.g. the pods of a headless Service)");
ABSL_FLAG(double, deadline, 0,
          "Per-call deadline in seconds; 0 means none (health: 5 s, so a hung server fails the "
          "probe instead of blocking it)");
ABSL_FLAG(bool, tls, false, "Connect with TLS (implied by --tls_ca, --tls_cert and --tls_key)");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of root certificates that verify the server; empty means the system roots");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate chain for mutual TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the server certificate must match instead of --target's host");
ABSL_FLAG(std::string, token, "",
          "Bearer token sent as 'authorization: Bearer <token>' on every call; empty means "
          "$EMBER_TOKEN if set, else none");
ABSL_FLAG(bool, json, false,
          "Machine-readable output: the response as JSON (generate --stream: one object per "
          "message), bench: one JSON summary object");

// The request (generate, bench; tokenize uses --model and --prompt, detokenize --model).
ABSL_FLAG(std::string, model, "", "Model name from `ember_cli models`; empty means the default");
ABSL_FLAG(std::string, prompt, "",
          "Prompt text (required for generate and tokenize; bench: default \"Once upon a time\")");
ABSL_FLAG(int32_t, max_new_tokens, 0, "Tokens to generate at most; 0 means the server's default");
ABSL_FLAG(std::optional<float>, temperature, std::nullopt,
          "Softmax temperature in [0, 100], 0 = greedy; unset means 1.0");
ABSL_FLAG(int32_t, top_k, 0, "Keep the k most likely tokens; 0 means no limit");
ABSL_FLAG(std::optional<float>, top_p, std::nullopt,
          "Nucleus sampling threshold in (0, 1]; unset means 1.0 (off)");
ABSL_FLAG(float, min_p, 0, "Drop tokens less likely than min_p x the most likely; 0 = off");
ABSL_FLAG(std::optional<float>, repetition_penalty, std::nullopt,
          "Repetition penalty in (0, 10]; unset means 1.0 (off)");
ABSL_FLAG(float, presence_penalty, 0, "Presence penalty in [-2, 2]");
ABSL_FLAG(float, frequency_penalty, 0, "Frequency penalty in [-2, 2]");
ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt,
          "Seed of the request's random stream (same seed, same output); unset: server picks");
ABSL_FLAG(std::vector<std::string>, stop, {},
          "Comma-separated stop strings (a stop string cannot itself contain a comma)");
ABSL_FLAG(bool, ignore_eos, false, "Keep generating past end-of-sequence tokens");
ABSL_FLAG(bool, logprobs, false,
          "Return each generated token's log-probability (printed on stderr)");
ABSL_FLAG(int32_t, top_logprobs, 0,
          "Also return this many most likely alternatives per token, in [0, 20]");
ABSL_FLAG(bool, prompt_logprobs, false,
          "Return every prompt token's log-probability given the tokens before it (printed on "
          "stderr); with --max_new_tokens=0 the request only scores the prompt");
ABSL_FLAG(int32_t, prompt_top_logprobs, 0,
          "Also return this many most likely alternatives per prompt position, in [0, 20]");
ABSL_FLAG(bool, include_special_tokens, false, "Include special tokens (e.g. </s>) in the text");
ABSL_FLAG(std::string, request_id, "", "Client-chosen id echoed in the server's logs");
ABSL_FLAG(bool, stream, false, "generate: stream the text as it is produced");

// Beam search (generate, bench): mostly for translation models, where --prompt is the source text.
ABSL_FLAG(int32_t, num_beams, 0,
          "Beam search with this many beams, in [0, 64]; 0 or 1 means off (sample as the sampling "
          "flags say). Excludes the sampling flags (except --temperature=0 and --seed), --stop, "
          "--ignore_eos and --logprobs");
ABSL_FLAG(std::optional<float>, length_penalty, std::nullopt,
          "Beam search: scores are sum_logprob / length^length_penalty; unset means 1.0");
ABSL_FLAG(std::string, early_stopping, "false",
          "Beam search stopping rule as in transformers: false (heuristic), true or never");
ABSL_FLAG(int32_t, no_repeat_ngram_size, 0,
          "Beam search on translation models: never repeat an n-gram of this size; 0 means off");
ABSL_FLAG(int32_t, num_return_sequences, 0,
          "Beam search: return the n best hypotheses (<= --num_beams; 0 means 1); with more than "
          "one, generate prints one '<score><TAB><text>' line per hypothesis after the text");

// Other subcommands.
ABSL_FLAG(bool, add_special_tokens, false, "tokenize: add BOS/EOS as the model does for prompts");
ABSL_FLAG(std::vector<std::string>, token_ids, {},
          "detokenize: comma-separated token ids to decode (required), e.g. 1,424,439");
ABSL_FLAG(bool, skip_special_tokens, false,
          "detokenize: drop special tokens (e.g. <s>) from the text; default keeps them");
ABSL_FLAG(std::string, service, "",
          "health: service to check; empty means the whole server, ember.v1.Generation the API");
ABSL_FLAG(int32_t, concurrency, 1, "bench: requests in flight at once (>= 1)");
ABSL_FLAG(int32_t, requests, 16, "bench: requests to send in total (>= 1)");
ABSL_FLAG(std::string, file, "", "perplexity: the text file to score (required)");
ABSL_FLAG(
    int64_t, context, 0,
    "perplexity: tokens per window, at most the model's context; 0 means the model's context");
ABSL_FLAG(int64_t, stride, 0,
          "perplexity: tokens each window advances by, in [1, --context]; 0 means --context / 2");

namespace ember::client {
namespace {

constexpr absl::string_view kCommonFlags[] = {"target", "lb_policy", "deadline", "tls",
                                              "tls_ca", "tls_cert",  "tls_key",  "tls_server_name",
                                              "token",  "json"};

// The prompt bench sends when --prompt is not given.
constexpr char kDefaultBenchPrompt[] = "Once upon a time";

constexpr absl::string_view kRequestFlags[] = {"model",
                                               "prompt",
                                               "max_new_tokens",
                                               "temperature",
                                               "top_k",
                                               "top_p",
                                               "min_p",
                                               "repetition_penalty",
                                               "presence_penalty",
                                               "frequency_penalty",
                                               "seed",
                                               "stop",
                                               "ignore_eos",
                                               "logprobs",
                                               "top_logprobs",
                                               "prompt_logprobs",
                                               "prompt_top_logprobs",
                                               "include_special_tokens",
                                               "request_id",
                                               "num_beams",
                                               "length_penalty",
                                               "early_stopping",
                                               "no_repeat_ngram_size",
                                               "num_return_sequences"};

// The flags each subcommand reads besides kCommonFlags.
const absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>& CommandFlags() {
  static const auto* const table = [] {
    auto* t = new absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>;
    (*t)["generate"].insert(std::begin(kRequestFlags), std::end(kRequestFlags));
    (*t)["generate"].insert("stream");
    (*t)["bench"].insert(std::begin(kRequestFlags), std::end(kRequestFlags));
    (*t)["bench"].insert({"concurrency", "requests"});
    (*t)["tokenize"] = {"model", "prompt", "add_special_tokens"};
    (*t)["detokenize"] = {"model", "token_ids", "skip_special_tokens"};
    (*t)["models"] = {};
    (*t)["health"] = {"service"};
    (*t)["perplexity"] = {"model", "file", "context", "stride"};
    return t;
  }();
  return *table;
}

bool IsCommonFlag(absl::string_view name) {
  for (absl::string_view flag : kCommonFlags) {
    if (flag == name) return true;
  }
  return false;
}

bool IsCliFlag(absl::string_view name) {
  if (IsCommonFlag(name)) return true;
  for (const auto& [command, flags] : CommandFlags()) {
    if (flags.contains(name)) return true;
  }
  return false;
}

absl::Status RequirePrompt(absl::string_view command) {
  if (absl::GetFlag(FLAGS_prompt).empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--prompt is required for ", command));
  }
  return absl::OkStatus();
}

// --early_stopping's spellings are transformers' (early_stopping=False / True / "never").
absl::StatusOr<ember::v1::EarlyStopping> EarlyStoppingFromFlag() {
  const std::string value = absl::GetFlag(FLAGS_early_stopping);
  if (value == "false") return ember::v1::EARLY_STOPPING_HEURISTIC;
  if (value == "true") return ember::v1::EARLY_STOPPING_TRUE;
  if (value == "never") return ember::v1::EARLY_STOPPING_NEVER;
  return absl::InvalidArgumentError(
      absl::StrCat("--early_stopping=", value, ": want false, true or never"));
}

absl::StatusOr<ember::v1::GenerateRequest> GenerateRequestFromFlags() {
  ember::v1::GenerateRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_prompt(absl::GetFlag(FLAGS_prompt));
  request.set_max_new_tokens(absl::GetFlag(FLAGS_max_new_tokens));
  ember::v1::SamplingParameters& sampling = *request.mutable_sampling();
  if (const auto t = absl::GetFlag(FLAGS_temperature)) sampling.set_temperature(*t);
  sampling.set_top_k(absl::GetFlag(FLAGS_top_k));
  if (const auto p = absl::GetFlag(FLAGS_top_p)) sampling.set_top_p(*p);
  sampling.set_min_p(absl::GetFlag(FLAGS_min_p));
  if (const auto r = absl::GetFlag(FLAGS_repetition_penalty)) sampling.set_repetition_penalty(*r);
  sampling.set_presence_penalty(absl::GetFlag(FLAGS_presence_penalty));
  sampling.set_frequency_penalty(absl::GetFlag(FLAGS_frequency_penalty));
  if (const auto s = absl::GetFlag(FLAGS_seed)) sampling.set_seed(*s);
  for (const std::string& stop : absl::GetFlag(FLAGS_stop)) request.add_stop(stop);
  request.set_ignore_eos(absl::GetFlag(FLAGS_ignore_eos));
  request.set_logprobs(absl::GetFlag(FLAGS_logprobs));
  request.set_top_logprobs(absl::GetFlag(FLAGS_top_logprobs));
  request.set_prompt_logprobs(absl::GetFlag(FLAGS_prompt_logprobs));
  request.set_prompt_top_logprobs(absl::GetFlag(FLAGS_prompt_top_logprobs));
  request.set_include_special_tokens(absl::GetFlag(FLAGS_include_special_tokens));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  ember::v1::BeamSearch& beam = *request.mutable_beam();
  beam.set_num_beams(absl::GetFlag(FLAGS_num_beams));
  if (const auto lp = absl::GetFlag(FLAGS_length_penalty)) beam.set_length_penalty(*lp);
  absl::StatusOr<ember::v1::EarlyStopping> early_stopping = EarlyStoppingFromFlag();
  if (!early_stopping.ok()) return early_stopping.status();
  beam.set_early_stopping(*early_stopping);
  beam.set_no_repeat_ngram_size(absl::GetFlag(FLAGS_no_repeat_ngram_size));
  beam.set_num_return_sequences(absl::GetFlag(FLAGS_num_return_sequences));
  // Range checks are the server's (one place, INVALID_ARGUMENT naming the field); the CLI only
  // refuses what the server could not tell apart from a default.
  return request;
}

}  // namespace

absl::Status CheckFlagsApply(absl::string_view command, absl::Span<char* const> argv) {
  const auto allowed = CommandFlags().find(std::string(command));
  if (allowed == CommandFlags().end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown command \"", command, "\""));
  }
  for (size_t i = 1; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;  // Everything after is positional.
    if (!absl::ConsumePrefix(&arg, "-")) continue;
    absl::ConsumePrefix(&arg, "-");
    absl::string_view name = arg.substr(0, arg.find('='));
    // --noflag sets a boolean flag to false.
    if (!IsCliFlag(name) && absl::StartsWith(name, "no") && IsCliFlag(name.substr(2))) {
      name = name.substr(2);
    }
    if (!IsCliFlag(name) || IsCommonFlag(name)) continue;
    if (!allowed->second.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " does not apply to ", command, " (see --help)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CommonArgs> CommonArgsFromFlags() {
  CommonArgs args;
  args.target = absl::GetFlag(FLAGS_target);
  if (args.target.empty()) return absl::InvalidArgumentError("--target is empty; want host:port");
  args.json = absl::GetFlag(FLAGS_json);
  args.client_options.lb_policy = absl::GetFlag(FLAGS_lb_policy);
  if (args.client_options.lb_policy != "pick_first" &&
      args.client_options.lb_policy != "round_robin") {
    return absl::InvalidArgumentError(absl::StrCat("--lb_policy=", args.client_options.lb_policy,
                                                   ": want pick_first or round_robin"));
  }

  const double deadline = absl::GetFlag(FLAGS_deadline);
  if (!(deadline >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--deadline=", deadline, ": must be >= 0 seconds (0 means none)"));
  }
  args.call_options.deadline = absl::Seconds(deadline);

  ClientOptions& client = args.client_options;
  const std::string ca = absl::GetFlag(FLAGS_tls_ca);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  client.tls = absl::GetFlag(FLAGS_tls) || !ca.empty() || !cert.empty() || !key.empty();
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together (mutual TLS)");
  }
  if (!ca.empty()) {
    absl::StatusOr<std::string> pem = client::ReadCredentialFile("tls_ca", ca);
    if (!pem.ok()) return pem.status();
    client.tls_root_certs_pem = *std::move(pem);
  }
  if (!cert.empty()) {
    absl::StatusOr<std::string> cert_pem = client::ReadCredentialFile("tls_cert", cert);
    if (!cert_pem.ok()) return cert_pem.status();
    absl::StatusOr<std::string> key_pem = client::ReadCredentialFile("tls_key", key);
    if (!key_pem.ok()) return key_pem.status();
    client.tls_client_cert_pem = *std::move(cert_pem);
    client.tls_client_key_pem = *std::move(key_pem);
  }
  client.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  if (!client.tls && !client.tls_server_name.empty()) {
    return absl::InvalidArgumentError("--tls_server_name needs --tls");
  }
  client.bearer_token = absl::GetFlag(FLAGS_token);
  if (client.bearer_token.empty()) {
    if (const char* env = std::getenv("EMBER_TOKEN"); env != nullptr) client.bearer_token = env;
  }
  if (absl::Status status = ValidateClientOptions(client); !status.ok()) return status;
  return args;
}

absl::StatusOr<GenerateArgs> GenerateArgsFromFlags() {
  if (absl::Status status = RequirePrompt("generate"); !status.ok()) return status;
  GenerateArgs args;
  absl::StatusOr<ember::v1::GenerateRequest> request = GenerateRequestFromFlags();
  if (!request.ok()) return request.status();
  args.request = *std::move(request);
  args.stream = absl::GetFlag(FLAGS_stream);
  return args;
}

absl::StatusOr<ember::v1::TokenizeRequest> TokenizeRequestFromFlags() {
  if (absl::Status status = RequirePrompt("tokenize"); !status.ok()) return status;
  ember::v1::TokenizeRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_text(absl::GetFlag(FLAGS_prompt));
  request.set_add_special_tokens(absl::GetFlag(FLAGS_add_special_tokens));
  return request;
}

absl::StatusOr<ember::v1::DetokenizeRequest> DetokenizeRequestFromFlags() {
  const std::vector<std::string> ids = absl::GetFlag(FLAGS_token_ids);
  if (ids.empty()) return absl::InvalidArgumentError("--token_ids is required for detokenize");
  ember::v1::DetokenizeRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  for (const std::string& text : ids) {
    int32_t id = 0;
    if (!absl::SimpleAtoi(text, &id)) {
      return absl::InvalidArgumentError(absl::StrCat("--token_ids: \"", absl::CHexEscape(text),
                                                     "\" is not a token id (an int32)"));
    }
    // The range is the server's to check: only it knows the vocabulary.
    request.add_token_ids(id);
  }
  request.set_skip_special_tokens(absl::GetFlag(FLAGS_skip_special_tokens));
  return request;
}

std::string HealthServiceFromFlags() { return absl::GetFlag(FLAGS_service); }

absl::StatusOr<BenchOptions> BenchOptionsFromFlags(const CommonArgs& common) {
  BenchOptions options;
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.requests = absl::GetFlag(FLAGS_requests);
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--concurrency=", options.concurrency, ": must be >= 1"));
  }
  if (options.requests < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--requests=", options.requests, ": must be >= 1"));
  }
  absl::StatusOr<ember::v1::GenerateRequest> request = GenerateRequestFromFlags();
  if (!request.ok()) return request.status();
  options.request = *std::move(request);
  if (options.request.prompt().empty()) options.request.set_prompt(kDefaultBenchPrompt);
  options.call_options = common.call_options;
  return options;
}

absl::StatusOr<PerplexityArgs> PerplexityArgsFromFlags() {
  PerplexityArgs args;
  args.file = absl::GetFlag(FLAGS_file);
  if (args.file.empty()) return absl::InvalidArgumentError("--file is required for perplexity");
  args.model = absl::GetFlag(FLAGS_model);
  args.context = absl::GetFlag(FLAGS_context);
  args.stride = absl::GetFlag(FLAGS_stride);
  if (args.context < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--context=", args.context, ": must be >= 0 (0: the model's context)"));
  }
  if (args.stride < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--stride=", args.stride, ": must be >= 0 (0: --context / 2)"));
  }
  return args;
}

}  // namespace ember::client
