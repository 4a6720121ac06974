#include "tests/client/fake_generation_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace ember::testing {
namespace {

// Longest a "hang"/"endless" handler waits for the client before giving up.
constexpr absl::Duration kBlockingLimit = absl::Seconds(20);

// "error:<CODE>:<message>" -> that status; OK for any other prompt.
grpc::Status ErrorFromPrompt(absl::string_view prompt) {
  if (!absl::ConsumePrefix(&prompt, "error:")) return grpc::Status::OK;
  const std::pair<std::string, std::string> parts = absl::StrSplit(prompt, absl::MaxSplits(':', 1));
  for (int code = 1; code <= 16; ++code) {
    if (absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) == parts.first) {
      return grpc::Status(static_cast<grpc::StatusCode>(code), parts.second);
    }
  }
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("fake server: unknown code ", parts.first));
}

void FillTimings(ember::v1::Timings* timings) {
  timings->set_queue_wait_seconds(0.001);
  timings->set_time_to_first_token_seconds(0.010);
  timings->set_decode_tokens_per_second(100.0);
  timings->set_total_seconds(0.050);
}

ember::v1::GenerateStreamResponse Piece(int i) {
  ember::v1::GenerateStreamResponse piece;
  piece.set_text(absl::StrCat("piece", i, " "));
  piece.add_token_ids(100 + i);
  return piece;
}

}  // namespace

void FakeGenerationService::Record(const grpc::ServerContext& context) {
  absl::MutexLock lock(&mu_);
  ++calls_;
  last_metadata_.clear();
  for (const auto& [key, value] : context.client_metadata()) {
    last_metadata_.emplace(std::string(key.data(), key.size()),
                           std::string(value.data(), value.size()));
  }
}

std::multimap<std::string, std::string> FakeGenerationService::last_metadata() const {
  absl::MutexLock lock(&mu_);
  return last_metadata_;
}

int FakeGenerationService::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

ember::v1::GenerateRequest FakeGenerationService::last_generate_request() const {
  absl::MutexLock lock(&mu_);
  return last_generate_request_;
}

void FakeGenerationService::RecordGenerate(const ember::v1::GenerateRequest& request) {
  absl::MutexLock lock(&mu_);
  last_generate_request_ = request;
}

void FakeGenerationService::WaitUntilCancelled(grpc::ServerContext* context) {
  if (!blocking_call_started_.HasBeenNotified()) blocking_call_started_.Notify();
  const absl::Time give_up = absl::Now() + kBlockingLimit;
  while (!context->IsCancelled() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  if (context->IsCancelled() && !cancellation_seen_.HasBeenNotified()) cancellation_seen_.Notify();
}

grpc::Status FakeGenerationService::Generate(grpc::ServerContext* context,
                                             const ember::v1::GenerateRequest* request,
                                             ember::v1::GenerateResponse* response) {
  Record(*context);
  RecordGenerate(*request);
  absl::string_view prompt = request->prompt();
  if (grpc::Status error = ErrorFromPrompt(prompt); !error.ok()) return error;
  if (prompt == "hang") {
    WaitUntilCancelled(context);
    return grpc::Status(grpc::StatusCode::CANCELLED, "fake server: hang ended");
  }
  int big = 0;
  if (absl::ConsumePrefix(&prompt, "big:") && absl::SimpleAtoi(prompt, &big)) {
    response->set_text(std::string(big, 'x'));
  } else {
    response->set_text(absl::StrCat("echo: ", request->prompt()));
  }
  response->set_finish_reason(ember::v1::FINISH_REASON_LENGTH);
  response->mutable_usage()->set_prompt_tokens(2);
  response->mutable_usage()->set_generated_tokens(3);
  FillTimings(response->mutable_timings());
  response->set_model("fake-model");
  for (int i = 0;
       request->beam().num_return_sequences() > 1 && i < request->beam().num_return_sequences();
       ++i) {
    ember::v1::Hypothesis* h = response->add_hypotheses();
    h->set_text(absl::StrCat("hyp", i));
    h->set_score(-(i + 1));
    h->set_sum_logprob(-2 * (i + 1));
  }
  return grpc::Status::OK;
}

grpc::Status FakeGenerationService::GenerateStream(
    grpc::ServerContext* context, const ember::v1::GenerateRequest* request,
    grpc::ServerWriter<ember::v1::GenerateStreamResponse>* writer) {
  Record(*context);
  RecordGenerate(*request);
  const std::string& prompt = request->prompt();
  if (grpc::Status error = ErrorFromPrompt(prompt); !error.ok()) return error;
  if (prompt == "endless") {
    if (!blocking_call_started_.HasBeenNotified()) blocking_call_started_.Notify();
    const absl::Time give_up = absl::Now() + kBlockingLimit;
    for (int i = 0; !context->IsCancelled() && absl::Now() < give_up; ++i) {
      if (!writer->Write(Piece(i))) break;
      absl::SleepFor(absl::Milliseconds(2));
    }
    WaitUntilCancelled(context);
    return grpc::Status(grpc::StatusCode::CANCELLED, "fake server: endless stream ended");
  }
  if (prompt == "fail-midway") {
    writer->Write(Piece(0));
    writer->Write(Piece(1));
    return grpc::Status(grpc::StatusCode::INTERNAL, "boom");
  }
  if (prompt == "no-finish") {
    writer->Write(Piece(0));
    return grpc::Status::OK;
  }
  const int pieces = request->max_new_tokens() > 0 ? request->max_new_tokens() : 3;
  for (int i = 0; i < pieces; ++i) {
    if (!writer->Write(Piece(i))) return grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
  }
  ember::v1::GenerateStreamResponse last;
  last.set_finish_reason(ember::v1::FINISH_REASON_LENGTH);
  last.mutable_usage()->set_prompt_tokens(2);
  last.mutable_usage()->set_generated_tokens(pieces);
  FillTimings(last.mutable_timings());
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status FakeGenerationService::Tokenize(grpc::ServerContext* context,
                                             const ember::v1::TokenizeRequest* request,
                                             ember::v1::TokenizeResponse* response) {
  Record(*context);
  int id = request->add_special_tokens() ? 1 : 10;
  if (request->add_special_tokens()) {
    response->add_token_ids(1);
    response->add_tokens("<s>");
  }
  for (absl::string_view word : absl::StrSplit(request->text(), ' ', absl::SkipEmpty())) {
    response->add_token_ids(++id);
    response->add_tokens(std::string(word));
  }
  return grpc::Status::OK;
}

grpc::Status FakeGenerationService::Detokenize(grpc::ServerContext* context,
                                               const ember::v1::DetokenizeRequest* request,
                                               ember::v1::DetokenizeResponse* response) {
  Record(*context);
  std::vector<std::string> words;
  for (int i = 0; i < request->token_ids_size(); ++i) {
    const int32_t id = request->token_ids(i);
    if (id < 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("token_ids[", i, "]: ", id, " is outside the vocabulary"));
    }
    if (id == 1 && request->skip_special_tokens()) continue;
    words.push_back(id == 1 ? "<s>" : absl::StrCat("t", id));
  }
  response->set_text(absl::StrJoin(words, " "));
  return grpc::Status::OK;
}

grpc::Status FakeGenerationService::ListModels(grpc::ServerContext* context,
                                               const ember::v1::ListModelsRequest* /*request*/,
                                               ember::v1::ListModelsResponse* response) {
  Record(*context);
  ember::v1::ModelInfo* model = response->add_models();
  model->set_name("fake-model");
  model->set_architecture("llama");
  model->set_model_type("llama");
  model->set_context_length(256);
  model->set_dtype("F32");
  model->set_vocab_size(512);
  model->add_eos_token_ids(2);
  model->set_kv_cache_blocks(64);
  model->set_kv_block_size(16);
  response->set_default_model("fake-model");
  return grpc::Status::OK;
}

FakeServer::FakeServer(std::shared_ptr<grpc::ServerCredentials> credentials) {
  // Process-wide switch; must precede BuildAndStart.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0",
                           credentials != nullptr ? credentials : grpc::InsecureServerCredentials(),
                           &port_);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    std::fprintf(stderr, "FakeServer: could not listen on 127.0.0.1:0\n");
    std::abort();
  }
}

FakeServer::~FakeServer() {
  // Bounded, so a handler still blocked in a "hang" cannot stall the test's teardown.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

std::string FakeServer::target() const { return absl::StrCat("127.0.0.1:", port_); }

void FakeServer::SetServing(const std::string& service, bool serving) {
  server_->GetHealthCheckService()->SetServingStatus(service, serving);
}

}  // namespace ember::testing
