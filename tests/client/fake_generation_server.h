// An in-process ember.v1.Generation server with canned behaviour, for testing the client library
// and ember_cli without the engine. Listens on an ephemeral loopback port.
//
// Behaviour is chosen by the request's prompt:
//   anything else        Generate: text "echo: <prompt>"; GenerateStream: max_new_tokens pieces
//                        (default 3) "piece<i> " with token id 100+i, then a last message with
//                        finish_reason LENGTH, usage and timings (and no text).
//   "error:<CODE>:<msg>" fails with that status (CODE as absl names it, e.g. RESOURCE_EXHAUSTED).
//   "hang"               blocks until the call is cancelled or its deadline passes.
//   "endless"            GenerateStream: pieces every 2 ms until the client cancels.
//   "fail-midway"        GenerateStream: two pieces, then INTERNAL "boom".
//   "no-finish"          GenerateStream: one piece, then OK without a finish_reason.
//   "big:<n>"            Generate: a text of n bytes.
// Generate also returns beam.num_return_sequences hypotheses "hyp<i>" (score -(i+1)) when that is
// more than 1, and records every GenerateRequest (last_generate_request).
#ifndef EMBER_TESTS_CLIENT_FAKE_GENERATION_SERVER_H_
#define EMBER_TESTS_CLIENT_FAKE_GENERATION_SERVER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "ember/v1/generation.grpc.pb.h"

namespace ember::testing {

class FakeGenerationService final : public ember::v1::Generation::Service {
 public:
  grpc::Status Generate(grpc::ServerContext* context, const ember::v1::GenerateRequest* request,
                        ember::v1::GenerateResponse* response) override;
  grpc::Status GenerateStream(
      grpc::ServerContext* context, const ember::v1::GenerateRequest* request,
      grpc::ServerWriter<ember::v1::GenerateStreamResponse>* writer) override;
  grpc::Status Tokenize(grpc::ServerContext* context, const ember::v1::TokenizeRequest* request,
                        ember::v1::TokenizeResponse* response) override;
  // The text "t<id>" per id, space-separated; id 1 (<s>) is "<s>", dropped with
  // skip_special_tokens; a negative id fails with INVALID_ARGUMENT "token_ids[i]: ...".
  grpc::Status Detokenize(grpc::ServerContext* context, const ember::v1::DetokenizeRequest* request,
                          ember::v1::DetokenizeResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const ember::v1::ListModelsRequest* request,
                          ember::v1::ListModelsResponse* response) override;

  // The metadata of the most recent call (any method).
  std::multimap<std::string, std::string> last_metadata() const;
  // Calls that reached a handler.
  int calls() const;
  // The most recent Generate or GenerateStream request.
  ember::v1::GenerateRequest last_generate_request() const;
  // Notified when a "hang" or "endless" handler starts / sees its call cancelled.
  absl::Notification& blocking_call_started() { return blocking_call_started_; }
  absl::Notification& cancellation_seen() { return cancellation_seen_; }

 private:
  void Record(const grpc::ServerContext& context);
  void RecordGenerate(const ember::v1::GenerateRequest& request);
  // Waits (bounded, so a broken test cannot hang forever) until the call ends client-side.
  void WaitUntilCancelled(grpc::ServerContext* context);

  mutable absl::Mutex mu_;
  std::multimap<std::string, std::string> last_metadata_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  ember::v1::GenerateRequest last_generate_request_ ABSL_GUARDED_BY(mu_);
  absl::Notification blocking_call_started_;
  absl::Notification cancellation_seen_;
};

// Runs a FakeGenerationService and gRPC's default health service on 127.0.0.1:<ephemeral>.
class FakeServer {
 public:
  // Plaintext unless `credentials` is given.
  explicit FakeServer(std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string target() const;
  FakeGenerationService& service() { return service_; }
  // Sets the health status of `service` ("" = the whole server).
  void SetServing(const std::string& service, bool serving);

 private:
  FakeGenerationService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace ember::testing

#endif  // EMBER_TESTS_CLIENT_FAKE_GENERATION_SERVER_H_
