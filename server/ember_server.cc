#include "server/ember_server.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/util/logging.h"
#include "core/util/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/server_credentials.h"

namespace ember {

namespace {

// After the drain grace, how long cancelled streams get to write their final message.
constexpr absl::Duration kFinalMessageWait = absl::Seconds(2);
// Once no generation call is left: how long a call accepted just before gRPC stops accepting gets
// to finish with its UNAVAILABLE before whatever is still open is cancelled.
constexpr absl::Duration kLateCallWait = absl::Milliseconds(200);

}  // namespace

EmberServer::EmberServer(const ServerOptions& options)
    : options_(options),
      metrics_(std::make_unique<Metrics>()),
      relay_(std::make_unique<EventRelay>()) {}

absl::StatusOr<std::unique_ptr<EmberServer>> EmberServer::Start(const ServerOptions& options) {
  auto server = std::unique_ptr<EmberServer>(new EmberServer(options));
  if (!options.metrics_address.empty()) {
    RETURN_IF_ERROR(server->metrics_->StartExposer(options.metrics_address));
    EMBER_LOG(INFO) << "metrics on http://" << options.metrics_address << "/metrics (port "
                    << server->metrics_->port() << ")";
  }
  RETURN_IF_ERROR(server->StartGrpc());
  if (!options.http_address.empty()) {
    absl::StatusOr<std::unique_ptr<http::HttpServer>> http =
        http::HttpServer::Start(options, server->metrics_.get(), &server->generation_calls_);
    if (!http.ok()) {
      server->Shutdown();
      return http.status();
    }
    server->http_ = std::move(*http);
  }
  if (options.on_listening) options.on_listening(server->grpc_port_);
  absl::Status loaded = server->LoadModel();
  if (!loaded.ok()) {
    server->Shutdown();
    return loaded;
  }
  return server;
}

absl::Status EmberServer::StartGrpc() {
  service_ = std::make_unique<GenerationService>(options_, metrics_.get(), relay_.get(),
                                                 &generation_calls_);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeServerCredentials(options_));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.grpc_address, credentials, &grpc_port_);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  // Idle connections are fine (clients keep channels open); pings without calls are tolerated at
  // a modest rate so a client's keepalive does not get it disconnected.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  if (options_.max_connection_age > absl::ZeroDuration() &&
      options_.max_connection_age != absl::InfiniteDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(options_.max_connection_age),
                                           std::numeric_limits<int>::max())));
    // In-flight calls (long streams) get the drain grace to finish on the old connection.
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(options_.drain_grace),
                                           std::numeric_limits<int>::max())));
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for gRPC on ", options_.grpc_address,
        TlsEnabled(options_) ? " (address in use or invalid, or the TLS key does not match the "
                               "certificate?)"
                             : " (address in use or invalid?)"));
  }
  health_ = std::make_unique<HealthReporter>(server_->GetHealthCheckService());
  EMBER_LOG(INFO) << "gRPC listening on " << options_.grpc_address << " (port " << grpc_port_
                  << (TlsEnabled(options_)
                          ? (options_.tls_client_ca_file.empty() ? ", TLS" : ", mutual TLS")
                          : ", plaintext")
                  << (options_.auth_token.empty() ? "" : ", bearer token required")
                  << "); loading the model";
  return absl::OkStatus();
}

absl::Status EmberServer::LoadModel() {
  EngineOptions engine_options = options_.engine;
  engine_options.observer = metrics_.get();
  ASSIGN_OR_RETURN(engine_, Engine::Create(engine_options));
  std::string name = options_.model_name;
  if (name.empty()) name = engine_->model_info().name;
  const ModelInfo& info = engine_->model_info();
  metrics_->SetModelInfo(name, info.dtype, info.kv_blocks);

  // Warm-up: one short request creates the kernels' primitives for prefill and decode shapes and
  // touches the weights, so the first user request does not pay for it.
  const absl::Time start = absl::Now();
  GenerationRequest warmup;
  warmup.prompt_tokens = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int32_t& t : warmup.prompt_tokens) t = t % static_cast<int32_t>(info.vocab_size);
  warmup.max_new_tokens = 2;
  warmup.ignore_eos = true;
  warmup.sampling.temperature = 0;
  absl::Notification done;
  absl::Status warm_status;
  auto id = engine_->Submit(warmup, [&](const GenerationEvent& e) {
    if (!e.finished) return;
    if (e.finish_reason == FinishReason::kError) warm_status = e.error;
    done.Notify();
  });
  if (!id.ok()) return id.status();
  done.WaitForNotification();
  RETURN_IF_ERROR(warm_status);
  EMBER_LOG(INFO) << "warm-up done in " << absl::FormatDuration(absl::Now() - start)
                  << "; serving model \"" << name << "\"";
  metrics_->StartRecording();
  service_->SetEngine(engine_.get(), name);
  if (http_ != nullptr) http_->SetModel(engine_.get(), name, LoadChatTemplate());
  health_->SetReady(engine_.get(), options_.stall_timeout, options_.engine.clock);
  return absl::OkStatus();
}

absl::StatusOr<chat::ChatTemplate> EmberServer::LoadChatTemplate() const {
  absl::StatusOr<std::optional<chat::ChatTemplate>> loaded =
      chat::ChatTemplate::LoadFromModelDir(options_.engine.model_dir);
  if (!loaded.ok()) {
    EMBER_LOG(WARNING) << "chat requests will be refused: " << loaded.status().message()
                       << " (completions are served)";
    return loaded.status();
  }
  if (!loaded->has_value()) {
    EMBER_LOG(INFO) << "the model has no chat template: chat requests will be refused";
    return absl::FailedPreconditionError(
        "the model has no chat template (tokenizer_config.json \"chat_template\" or "
        "chat_template.jinja)");
  }
  return std::move(**loaded);
}

void EmberServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  EMBER_LOG(INFO) << "shutting down: draining for up to "
                  << absl::FormatDuration(options_.drain_grace);
  // Refuse new calls before readiness says so, so a client that sees NOT_SERVING and tries anyway
  // gets UNAVAILABLE, never a request admitted on a draining server.
  if (service_ != nullptr) service_->StopAccepting();
  if (http_ != nullptr) http_->StopAccepting();
  if (health_ != nullptr) health_->SetDraining();
  const absl::Time grace_end = absl::Now() + options_.drain_grace;
  absl::Time output_deadline = grace_end;
  if (engine_ != nullptr) {
    engine_->StopAccepting();
    while (engine_->Snapshot().busy && absl::Now() < grace_end) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (engine_->Snapshot().busy) {
      EMBER_LOG(WARNING) << "drain grace passed with requests in flight: cancelling them";
      engine_->CancelAll(absl::UnavailableError(
          "the server is shutting down and its drain grace (--drain_grace_seconds) passed before "
          "this request finished; retry it on another replica"));
      output_deadline = absl::Now() + kFinalMessageWait;
    }
  }
  if (server_ != nullptr) {
    // Streams still writing their output to a slow reader get until the grace (or, cancelled at
    // the grace, a short wait for their final message). Then nothing anyone waits for is left:
    // health Watches and idle connections are no reason to stay, so gRPC cancels what is open and
    // closes the connections at once.
    if (!generation_calls_.WaitForNone(output_deadline)) {
      EMBER_LOG(WARNING) << generation_calls_.count()
                         << " generation call(s) still writing at the end of the drain: "
                            "cancelling them";
    }
    server_->Shutdown(absl::ToChronoTime(absl::Now() + kLateCallWait));
    server_->Wait();
  }
  if (http_ != nullptr) http_->Stop();
  // Reactor tasks posted before the calls ended may still refer to the engine: run them first.
  relay_->Flush();
  engine_.reset();
  health_.reset();
  EMBER_LOG(INFO) << "shutdown complete";
}

EmberServer::~EmberServer() { Shutdown(); }

}  // namespace ember
