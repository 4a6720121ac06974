// ember_server: flags -> ServerOptions (the only place flags are read), start, wait for SIGTERM or
// SIGINT, drain, exit 0 (a second signal during the drain: exit 128 + signal at once).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/engine/weight_format.h"
#include "core/util/file_util.h"
#include "core/util/logging.h"
#include "server/ember_server.h"

ABSL_FLAG(std::string, model_dir, "",
          "Hugging Face model directory: config.json, *.safetensors, tokenizer.json (required)");
ABSL_FLAG(std::string, model_name, "", "Name clients use for the model (default: directory name)");
ABSL_FLAG(std::string, grpc_address, "0.0.0.0:50051", "gRPC listen address (port 0: any free)");
ABSL_FLAG(std::string, http_address, "0.0.0.0:8000",
          "OpenAI-compatible HTTP API listen address (port 0: any free); empty disables it");
ABSL_FLAG(int, http_threads, 128,
          "Threads serving HTTP connections (each streaming request holds one while it runs)");
ABSL_FLAG(int, http_send_buffer_bytes, 0,
          "SO_SNDBUF of HTTP API connections; 0 = the kernel's auto-tuned size");
ABSL_FLAG(std::string, metrics_address, "0.0.0.0:9090",
          "Prometheus /metrics listen address; empty disables it");
ABSL_FLAG(int, threads, 0,
          "Intra-op threads for the model; 0 = OMP_NUM_THREADS if set, else the CPUs the process "
          "may use (affinity mask), capped by a cgroup v2 CPU limit");
ABSL_FLAG(std::string, dtype, "auto",
          "Weight/compute type: auto (bf16 if the CPU has native bf16, else f32), f32, bf16");
ABSL_FLAG(std::string, weight_format, "dtype",
          "Weight format of the projections: dtype (weights in the --dtype type), int8 or int4 "
          "(quantized at load from the checkpoint, symmetric per group of --weight_group_size "
          "input features, bf16 scales; activations stay in --dtype and are quantized per step)");
ABSL_FLAG(int32_t, weight_group_size, 0,
          "Input features per quantization scale with --weight_format=int8/int4: 32, 64 or 128; "
          "0 = 128 for int8, 64 for int4");
ABSL_FLAG(bool, quantize_lm_head, true,
          "With --weight_format=int8/int4, quantize the LM head too (else it stays in --dtype)");
ABSL_FLAG(int64_t, max_tokens_per_step, 512,
          "Tokens per engine step (decodes + prompt chunks); bounds stream latency");
ABSL_FLAG(int64_t, max_running, 64, "Sequences decoding together at most");
ABSL_FLAG(int64_t, block_size, 16, "Positions per KV-cache block");
ABSL_FLAG(int64_t, kv_cache_mib, 0,
          "KV-cache size in MiB; 0 = room for max_running full contexts, at most 25% of RAM");
ABSL_FLAG(int64_t, max_waiting, 256,
          "Requests waiting for admission at most; more get RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, max_context, 0, "Context length served; 0 = the model's");
ABSL_FLAG(bool, prefix_cache, true,
          "Keep full KV blocks and share them by content: prompts that begin alike compute the "
          "shared beginning once (outputs are identical either way)");
ABSL_FLAG(int32_t, default_max_new_tokens, 256, "max_new_tokens when a request leaves it 0");
ABSL_FLAG(int32_t, max_new_tokens_limit, 4096, "Largest max_new_tokens a request may ask for");
ABSL_FLAG(double, drain_grace_seconds, 30,
          "On SIGTERM/SIGINT, how long in-flight requests may finish before being cancelled");
ABSL_FLAG(int64_t, max_stream_buffer_bytes, 1 << 20,
          "Unread output a stream may buffer before it is cancelled (slow reader)");
ABSL_FLAG(double, stream_stall_timeout_seconds, 60,
          "A stream whose client takes none of its output for this long is cancelled (slow "
          "reader), or reset once its request has ended; 0 = never");
ABSL_FLAG(double, stall_timeout_seconds, 60,
          "Liveness fails when the engine makes no progress for this long with work pending");
ABSL_FLAG(bool, log_requests, true, "Log one line per finished request");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain for TLS on the gRPC port (with --tls_key_file); empty: plaintext");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle; when set, clients must present a certificate it signs (mutual TLS)");
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding the bearer token every Generation call must send (health stays open); "
          "also read from $EMBER_AUTH_TOKEN when this is empty. Empty both: no token");
ABSL_FLAG(double, max_connection_age_seconds, 0,
          "Close client connections after this long (clients reconnect, and so spread over new "
          "replicas behind a Kubernetes Service); 0: never");

namespace {

absl::StatusOr<ember::ServerOptions> OptionsFromFlags() {
  ember::ServerOptions o;
  o.engine.model_dir = absl::GetFlag(FLAGS_model_dir);
  if (o.engine.model_dir.empty()) {
    return absl::InvalidArgumentError("--model_dir is required (a Hugging Face model directory)");
  }
  o.model_name = absl::GetFlag(FLAGS_model_name);
  o.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  o.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  o.http_address = absl::GetFlag(FLAGS_http_address);
  o.http_threads = absl::GetFlag(FLAGS_http_threads);
  o.http_send_buffer_bytes = absl::GetFlag(FLAGS_http_send_buffer_bytes);
  o.engine.threads = absl::GetFlag(FLAGS_threads);
  const std::string dtype = absl::AsciiStrToLower(absl::GetFlag(FLAGS_dtype));
  if (dtype == "f32") {
    o.engine.compute = ember::DType::kF32;
  } else if (dtype == "bf16") {
    o.engine.compute = ember::DType::kBF16;
  } else if (dtype != "auto") {
    return absl::InvalidArgumentError(
        absl::StrCat("--dtype must be auto, f32 or bf16, got \"", dtype, "\""));
  }
  absl::StatusOr<std::optional<ember::quant::QuantScheme>> quantize = ember::ParseWeightFormat(
      absl::GetFlag(FLAGS_weight_format), absl::GetFlag(FLAGS_weight_group_size), "--weight_format",
      "--weight_group_size");
  if (!quantize.ok()) return quantize.status();
  o.engine.quantize = *quantize;
  o.engine.quantize_lm_head = absl::GetFlag(FLAGS_quantize_lm_head);
  o.engine.max_tokens_per_step = absl::GetFlag(FLAGS_max_tokens_per_step);
  o.engine.max_running = absl::GetFlag(FLAGS_max_running);
  o.engine.block_size = absl::GetFlag(FLAGS_block_size);
  o.engine.kv_cache_bytes = absl::GetFlag(FLAGS_kv_cache_mib) << 20;
  o.engine.max_waiting = absl::GetFlag(FLAGS_max_waiting);
  o.engine.max_context = absl::GetFlag(FLAGS_max_context);
  o.engine.default_max_new_tokens = absl::GetFlag(FLAGS_default_max_new_tokens);
  o.engine.prefix_cache = absl::GetFlag(FLAGS_prefix_cache);
  o.engine.max_new_tokens_limit = absl::GetFlag(FLAGS_max_new_tokens_limit);
  o.drain_grace = absl::Seconds(absl::GetFlag(FLAGS_drain_grace_seconds));
  o.max_stream_buffer_bytes = absl::GetFlag(FLAGS_max_stream_buffer_bytes);
  o.stream_stall_timeout = absl::Seconds(absl::GetFlag(FLAGS_stream_stall_timeout_seconds));
  o.stall_timeout = absl::Seconds(absl::GetFlag(FLAGS_stall_timeout_seconds));
  o.log_requests = absl::GetFlag(FLAGS_log_requests);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  o.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  o.max_connection_age = absl::Seconds(absl::GetFlag(FLAGS_max_connection_age_seconds));
  // The token comes from a file or the environment, never from a flag value: command lines are
  // visible to every user of the machine (ps, /proc/*/cmdline).
  const std::string token_file = absl::GetFlag(FLAGS_auth_token_file);
  if (!token_file.empty()) {
    absl::StatusOr<std::string> token = ember::ReadFileToString(token_file);
    if (!token.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth_token_file: ", token.status().message()));
    }
    o.auth_token = std::string(absl::StripAsciiWhitespace(*token));
    if (o.auth_token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth_token_file: ", token_file, " is empty"));
    }
  } else if (const char* env = std::getenv("EMBER_AUTH_TOKEN"); env != nullptr) {
    o.auth_token = std::string(absl::StripAsciiWhitespace(env));
  }
  for (char c : o.auth_token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "the auth token must be printable ASCII without spaces (it travels as gRPC metadata)");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves text generation from a Hugging Face model directory over gRPC.\n"
      "  ember_server --model_dir=DIR [--grpc_address=0.0.0.0:50051] "
      "[--http_address=0.0.0.0:8000] [--metrics_address=0.0.0.0:9090] ...");
  absl::ParseCommandLine(argc, argv);
  // Block the shutdown signals in every thread (threads inherit the mask), then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<ember::ServerOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "ember_server: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  auto server = ember::EmberServer::Start(*options);
  if (!server.ok()) {
    std::fprintf(stderr, "ember_server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  EMBER_LOG(INFO) << "ready: gRPC port " << (*server)->grpc_port() << ", metrics port "
                  << (*server)->metrics_port() << ", HTTP port " << (*server)->http_port();
  int received = 0;
  sigwait(&signals, &received);
  EMBER_LOG(INFO) << "received " << (received == SIGTERM ? "SIGTERM" : "SIGINT")
                  << "; a second SIGTERM or SIGINT exits at once";
  // The drain runs on this thread; a second signal ends the process without waiting for it (an
  // operator's second Ctrl-C). Exit status 128 + the signal, as a shell reports a killed process.
  std::thread([signals] {
    int again = 0;
    sigwait(&signals, &again);
    EMBER_LOG(WARNING) << "received a second " << (again == SIGTERM ? "SIGTERM" : "SIGINT")
                       << ": exiting without finishing the drain";
    std::_Exit(128 + again);
  }).detach();
  (*server)->Shutdown();
  return 0;
}
