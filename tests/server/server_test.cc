// The real gRPC server on an ephemeral loopback port: unary and streaming generation against the
// PyTorch reference, concurrency, cancellation (seen in /metrics), the queue bound, deadlines,
// health, and draining. Bad requests have their own file: server_bad_request_test.cc.
// GCC 12 reports a false -Wrestrict inside std::string's copy when a string is assigned in a loop
// inside a lambda here (GCC bug 105329); nothing in this file overlaps memory.
#pragma GCC diagnostic ignored "-Wrestrict"

#include <atomic>
#include <cmath>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/http_get.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;

std::vector<int32_t> Ids(const google::protobuf::RepeatedField<int32_t>& ids) {
  return {ids.begin(), ids.end()};
}

struct StreamResult {
  grpc::Status status;
  std::string text;
  std::vector<int32_t> tokens;
  ember::v1::GenerateStreamResponse last;
  int messages = 0;
  // Every message's prompt_logprobs, and the index of the first message that had any.
  std::vector<ember::v1::GeneratedTokenLogprobs> prompt_logprobs;
  int prompt_logprobs_message = -1;
};

StreamResult Stream(ember::v1::Generation::Stub& stub, const ember::v1::GenerateRequest& request,
                    grpc::ClientContext* context = nullptr) {
  grpc::ClientContext local;
  if (context == nullptr) context = &local;
  StreamResult r;
  auto reader = stub.GenerateStream(context, request);
  ember::v1::GenerateStreamResponse m;
  while (reader->Read(&m)) {
    r.text += m.text();
    for (int32_t t : m.token_ids()) r.tokens.push_back(t);
    if (m.prompt_logprobs_size() > 0 && r.prompt_logprobs_message < 0) {
      r.prompt_logprobs_message = r.messages;
    }
    r.prompt_logprobs.insert(r.prompt_logprobs.end(), m.prompt_logprobs().begin(),
                             m.prompt_logprobs().end());
    r.last = m;
    ++r.messages;
  }
  r.status = reader->Finish();
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new ServerHarness(); }
  static void TearDownTestSuite() { delete harness_; }
  static ServerHarness* harness_;
};
ServerHarness* ServerTest::harness_ = nullptr;

TEST_F(ServerTest, UnaryGenerateMatchesTheReference) {
  grpc::ClientContext context;
  ember::v1::GenerateResponse response;
  grpc::Status s = harness_->stub().Generate(&context, GreedyRequest(0), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Ids(response.token_ids()), ReferenceGreedy(0));
  EXPECT_EQ(response.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(response.usage().prompt_tokens(), 7);
  EXPECT_EQ(response.usage().generated_tokens(), 12);
  EXPECT_GT(response.timings().total_seconds(), 0);
  EXPECT_FALSE(response.model().empty());
}

TEST_F(ServerTest, StreamingGivesTheSameTextAsUnary) {
  grpc::ClientContext context;
  ember::v1::GenerateResponse unary;
  ASSERT_TRUE(harness_->stub().Generate(&context, GreedyRequest(1), &unary).ok());
  StreamResult streamed = Stream(harness_->stub(), GreedyRequest(1));
  ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
  EXPECT_EQ(streamed.text, unary.text());
  EXPECT_EQ(streamed.tokens, ReferenceGreedy(1));
  EXPECT_EQ(streamed.last.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(streamed.last.usage().generated_tokens(), 12);
  // Pieces may be coalesced when the client reads slower than tokens arrive (e.g. a loaded
  // machine), so only content and order are exact.
  EXPECT_GE(streamed.messages, 1);
}

TEST_F(ServerTest, PromptLogprobsScoreThePromptInBothCallsAndAloneWithZeroNewTokens) {
  ember::v1::GenerateRequest request = GreedyRequest(0);
  request.set_prompt_logprobs(true);
  request.set_prompt_top_logprobs(2);
  grpc::ClientContext context;
  ember::v1::GenerateResponse unary;
  ASSERT_TRUE(harness_->stub().Generate(&context, request, &unary).ok());
  const std::vector<int32_t> prompt(request.prompt_token_ids().begin(),
                                    request.prompt_token_ids().end());
  ASSERT_EQ(unary.prompt_logprobs_size(), static_cast<int>(prompt.size()) - 1);
  for (int i = 0; i < unary.prompt_logprobs_size(); ++i) {
    const ember::v1::GeneratedTokenLogprobs& entry = unary.prompt_logprobs(i);
    EXPECT_EQ(entry.chosen().token_id(), prompt[static_cast<size_t>(i) + 1]);
    EXPECT_LE(entry.chosen().logprob(), 0.0f);
    EXPECT_EQ(entry.top_size(), 2);
  }
  EXPECT_EQ(Ids(unary.token_ids()), ReferenceGreedy(0));  // generating is unchanged

  StreamResult streamed = Stream(harness_->stub(), request);
  ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
  EXPECT_EQ(streamed.prompt_logprobs_message, 0);  // with the first token, once
  ASSERT_EQ(streamed.prompt_logprobs.size(), static_cast<size_t>(unary.prompt_logprobs_size()));
  for (size_t i = 0; i < streamed.prompt_logprobs.size(); ++i) {
    EXPECT_EQ(streamed.prompt_logprobs[i].chosen().logprob(),
              unary.prompt_logprobs(static_cast<int>(i)).chosen().logprob());
  }

  request.set_max_new_tokens(0);  // scoring only
  grpc::ClientContext scoring_context;
  ember::v1::GenerateResponse scored;
  ASSERT_TRUE(harness_->stub().Generate(&scoring_context, request, &scored).ok());
  EXPECT_EQ(scored.usage().generated_tokens(), 0);
  EXPECT_TRUE(scored.text().empty());
  EXPECT_EQ(scored.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  ASSERT_EQ(scored.prompt_logprobs_size(), unary.prompt_logprobs_size());
  for (int i = 0; i < scored.prompt_logprobs_size(); ++i) {
    EXPECT_NEAR(scored.prompt_logprobs(i).chosen().logprob(),
                unary.prompt_logprobs(i).chosen().logprob(), 1e-5);
  }
  StreamResult scored_stream = Stream(harness_->stub(), request);
  ASSERT_TRUE(scored_stream.status.ok()) << scored_stream.status.error_message();
  EXPECT_TRUE(scored_stream.tokens.empty());
  EXPECT_EQ(scored_stream.prompt_logprobs.size(),
            static_cast<size_t>(unary.prompt_logprobs_size()));
  EXPECT_EQ(scored_stream.last.finish_reason(), ember::v1::FINISH_REASON_LENGTH);

  request.set_prompt_top_logprobs(21);
  grpc::ClientContext bad_context;
  ember::v1::GenerateResponse bad;
  const grpc::Status refused = harness_->stub().Generate(&bad_context, request, &bad);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("prompt_top_logprobs: must be in [0, 20]"));
}

TEST_F(ServerTest, ConcurrentStreamsMatchTheirSoloGreedyOutput) {
  std::vector<std::thread> threads;
  std::vector<StreamResult> results(9);
  for (size_t k = 0; k < results.size(); ++k) {
    threads.emplace_back([&, k] { results[k] = Stream(harness_->stub(), GreedyRequest(k % 3)); });
  }
  for (auto& t : threads) t.join();
  for (size_t k = 0; k < results.size(); ++k) {
    ASSERT_TRUE(results[k].status.ok()) << results[k].status.error_message();
    EXPECT_EQ(results[k].tokens, ReferenceGreedy(k % 3)) << "stream " << k;
  }
}

TEST_F(ServerTest, TokenizeAndListModels) {
  grpc::ClientContext c1;
  ember::v1::TokenizeRequest tr;
  tr.set_text("Hello world");
  tr.set_add_special_tokens(true);
  ember::v1::TokenizeResponse tokens;
  ASSERT_TRUE(harness_->stub().Tokenize(&c1, tr, &tokens).ok());
  ASSERT_GE(tokens.token_ids_size(), 2);
  EXPECT_EQ(tokens.token_ids(0), 1);  // BOS
  EXPECT_EQ(tokens.tokens(0), "<s>");
  grpc::ClientContext c2;
  ember::v1::ListModelsResponse models;
  ASSERT_TRUE(harness_->stub().ListModels(&c2, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_EQ(models.models(0).architecture(), "llama");
  EXPECT_EQ(models.models(0).context_length(), 256);
  EXPECT_EQ(models.models(0).dtype(), "F32");
  EXPECT_EQ(models.default_model(), models.models(0).name());
}

ember::v1::TokenizeResponse TokenizeOk(ember::v1::Generation::Stub& stub, const std::string& text,
                                       bool add_special_tokens) {
  grpc::ClientContext context;
  ember::v1::TokenizeRequest request;
  request.set_text(text);
  request.set_add_special_tokens(add_special_tokens);
  ember::v1::TokenizeResponse response;
  const grpc::Status s = stub.Tokenize(&context, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response;
}

grpc::Status Detokenize(ember::v1::Generation::Stub& stub, const std::vector<int32_t>& ids,
                        bool skip_special_tokens, std::string* text,
                        const std::string& model = "") {
  grpc::ClientContext context;
  ember::v1::DetokenizeRequest request;
  request.set_model(model);
  for (int32_t id : ids) request.add_token_ids(id);
  request.set_skip_special_tokens(skip_special_tokens);
  ember::v1::DetokenizeResponse response;
  const grpc::Status s = stub.Detokenize(&context, request, &response);
  *text = response.text();
  return s;
}

TEST_F(ServerTest, DetokenizeInvertsTokenize) {
  const std::string ok_series =
      "ember_rpcs_total{code=\"OK\",method=\"Detokenize\",protocol=\"grpc\"}";
  double before = MetricValue(harness_->Metrics(), ok_series);
  if (std::isnan(before)) before = 0;  // no such series yet
  for (const std::string original : {"Hello world", "Once upon a time, there was a little fox.",
                                     "caf\xc3\xa9 \xe2\x82\xac 42"}) {
    const ember::v1::TokenizeResponse tokens =
        TokenizeOk(harness_->stub(), original, /*add_special_tokens=*/false);
    ASSERT_GT(tokens.token_ids_size(), 0) << original;
    std::string text;
    const grpc::Status s = Detokenize(harness_->stub(), Ids(tokens.token_ids()),
                                      /*skip_special_tokens=*/false, &text);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(text, original);
  }
  EXPECT_EQ(harness_->WaitForMetric(ok_series, before + 3), before + 3);
  std::string empty = "unset";
  ASSERT_TRUE(Detokenize(harness_->stub(), {}, false, &empty).ok());
  EXPECT_EQ(empty, "");
}

TEST_F(ServerTest, DetokenizeSkipSpecialTokensDropsBos) {
  const ember::v1::TokenizeResponse tokens =
      TokenizeOk(harness_->stub(), "Hello world", /*add_special_tokens=*/true);
  ASSERT_GE(tokens.token_ids_size(), 2);
  ASSERT_EQ(tokens.token_ids(0), 1);  // BOS
  std::string with_bos;
  ASSERT_TRUE(Detokenize(harness_->stub(), Ids(tokens.token_ids()), false, &with_bos).ok());
  EXPECT_THAT(with_bos, ::testing::StartsWith("<s>"));
  EXPECT_THAT(with_bos, HasSubstr("Hello world"));
  std::string without;
  ASSERT_TRUE(Detokenize(harness_->stub(), Ids(tokens.token_ids()), true, &without).ok());
  EXPECT_EQ(without, "Hello world");
}

TEST_F(ServerTest, DetokenizeRefusesIdsOutsideTheVocabularyAndUnknownModels) {
  grpc::ClientContext c;
  ember::v1::ListModelsResponse models;
  ASSERT_TRUE(harness_->stub().ListModels(&c, {}, &models).ok());
  const int32_t vocab = models.models(0).vocab_size();
  std::string text;
  grpc::Status s = Detokenize(harness_->stub(), {1, 2, vocab}, false, &text);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("token_ids[2]: ", vocab, " is outside the vocabulary [0, ", vocab, ")"));
  s = Detokenize(harness_->stub(), {-1}, false, &text);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::StartsWith("token_ids[0]: -1 is outside"));
  s = Detokenize(harness_->stub(), {1}, false, &text, "no-such-model");
  EXPECT_EQ(s.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(s.error_message(),
            "model: \"no-such-model\" is not served here (serving \"tiny-llama\")");
  EXPECT_GE(
      MetricValue(
          harness_->Metrics(),
          "ember_rpcs_total{code=\"INVALID_ARGUMENT\",method=\"Detokenize\",protocol=\"grpc\"}"),
      2);
}

TEST_F(ServerTest, CancellingMidStreamFreesBlocksAndIsCounted) {
  const std::string cancelled = "ember_requests_total{finish_reason=\"cancelled\"}";
  const double before = MetricValue(harness_->Metrics(), cancelled);
  harness_->server().engine().SetStepDelayForTesting(absl::Milliseconds(5));
  grpc::ClientContext context;
  auto reader = harness_->stub().GenerateStream(&context, GreedyRequest(2, 200));
  ember::v1::GenerateStreamResponse m;
  int read = 0;
  while (read < 3 && reader->Read(&m)) ++read;
  ASSERT_EQ(read, 3);
  context.TryCancel();
  while (reader->Read(&m)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::CANCELLED);
  harness_->server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  EXPECT_EQ(harness_->WaitForMetric(cancelled, before + 1), before + 1);
  EXPECT_EQ(harness_->WaitForMetric("ember_kv_cache_blocks_used", 0), 0);
  EXPECT_GT(MetricValue(harness_->Metrics(), "ember_kv_cache_blocks_total"), 0);
}

TEST_F(ServerTest, DeadlinePassingDuringGenerationEndsWithDeadline) {
  const std::string deadline = "ember_requests_total{finish_reason=\"deadline\"}";
  const double before = MetricValue(harness_->Metrics(), deadline);
  harness_->server().engine().SetStepDelayForTesting(absl::Milliseconds(10));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  StreamResult r = Stream(harness_->stub(), GreedyRequest(0, 200), &context);
  harness_->server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  EXPECT_EQ(r.status.error_code(), grpc::DEADLINE_EXCEEDED);
  EXPECT_EQ(harness_->WaitForMetric(deadline, before + 1), before + 1);
  EXPECT_EQ(harness_->WaitForMetric("ember_kv_cache_blocks_used", 0), 0);
}

TEST_F(ServerTest, MetricsEndpointHasTheDocumentedSeries) {
  grpc::ClientContext context;
  ember::v1::GenerateResponse response;
  ASSERT_TRUE(harness_->stub().Generate(&context, GreedyRequest(0, 3), &response).ok());
  harness_->WaitForMetric("ember_requests_running", 0);
  const std::string text = harness_->Metrics();
  for (const char* name :
       {"ember_rpcs_total", "ember_requests_total", "ember_time_to_first_token_seconds_bucket",
        "ember_inter_token_latency_seconds_bucket", "ember_request_duration_seconds_bucket",
        "ember_queue_wait_seconds_bucket", "ember_prompt_tokens_total",
        "ember_generated_tokens_total", "ember_requests_running", "ember_requests_waiting",
        "ember_step_tokens_bucket", "ember_kv_cache_blocks_used", "ember_kv_cache_blocks_total",
        "ember_preemptions_total", "ember_model_info"}) {
    EXPECT_THAT(text, HasSubstr(name));
  }
  EXPECT_GT(MetricValue(text, "ember_generated_tokens_total"), 0);
  EXPECT_GT(
      MetricValue(text, "ember_rpcs_total{code=\"OK\",method=\"Generate\",protocol=\"grpc\"}"), 0);
}

TEST_F(ServerTest, HealthIsServing) {
  for (const char* service : {"", "ember.v1.Generation", "liveness"}) {
    grpc::ClientContext c;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(harness_->health().Check(&c, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
}

// Own servers: these change server-wide state.

TEST(ServerMetricsTest, WarmUpIsNotCountedAsServedWork) {
  ServerHarness h;  // its own server: nothing but the warm-up has run
  const std::string text = h.Metrics();
  EXPECT_EQ(MetricValue(text, "ember_generated_tokens_total"), 0);
  EXPECT_EQ(MetricValue(text, "ember_prompt_tokens_total"), 0);
  EXPECT_EQ(MetricValue(text, "ember_time_to_first_token_seconds_count"), 0);
  EXPECT_GT(MetricValue(text, "ember_kv_cache_blocks_total"), 0);
  grpc::ClientContext context;
  ember::v1::GenerateResponse response;
  ASSERT_TRUE(h.stub().Generate(&context, GreedyRequest(0, 3), &response).ok());
  EXPECT_EQ(h.WaitForMetric("ember_generated_tokens_total", 3), 3);
  EXPECT_EQ(h.WaitForMetric("ember_requests_total{finish_reason=\"length\"}", 1), 1);
}

TEST(ServerLimitsTest, FullQueueGetsResourceExhaustedAtOnce) {
  ServerOptions options = TestServerOptions();
  options.engine.max_running = 1;
  options.engine.max_waiting = 1;
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  grpc::ClientContext running_context;
  auto running = h.stub().GenerateStream(&running_context, GreedyRequest(0, 50));
  ember::v1::GenerateStreamResponse m;
  ASSERT_TRUE(running->Read(&m));  // admitted and running
  grpc::ClientContext waiting_context;
  auto waiting = h.stub().GenerateStream(&waiting_context, GreedyRequest(1, 2));
  ASSERT_EQ(h.WaitForMetric("ember_requests_waiting", 1), 1);  // the second request is queued
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  const absl::Time start = absl::Now();
  grpc::Status s = h.stub().Generate(&c, GreedyRequest(1, 2), &response);
  EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("queue is full"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  while (running->Read(&m)) {
  }
  EXPECT_TRUE(running->Finish().ok());
  while (waiting->Read(&m)) {
  }
  EXPECT_TRUE(waiting->Finish().ok());
}

TEST(ServerLimitsTest, StalledEngineFailsLiveness) {
  ServerOptions options = TestServerOptions();
  options.stall_timeout = absl::Milliseconds(200);
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Seconds(2));
  grpc::ClientContext gen_context;
  ember::v1::GenerateResponse response;
  std::thread t([&] { (void)h.stub().Generate(&gen_context, GreedyRequest(0, 2), &response); });
  grpc::health::v1::HealthCheckResponse::ServingStatus status =
      grpc::health::v1::HealthCheckResponse::SERVING;
  for (int i = 0; i < 100 && status == grpc::health::v1::HealthCheckResponse::SERVING; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    grpc::ClientContext c;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("liveness");
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(h.health().Check(&c, req, &resp).ok());
    status = resp.status();
  }
  EXPECT_EQ(status, grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  t.join();
}

TEST(ServerDrainTest, ShutdownLetsStreamsFinishAndRefusesNewCalls) {
  ServerOptions options = TestServerOptions();
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(10));
  std::vector<StreamResult> results(3);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < 3; ++k) {
    threads.emplace_back([&, k] { results[k] = Stream(h.stub(), GreedyRequest(k, 12)); });
  }
  // All three admitted (each stream is 12 steps of >= 10 ms, so none can finish meanwhile).
  EXPECT_EQ(h.WaitForMetric("ember_requests_running", 3), 3);
  std::thread shutdown([&] { h.server().Shutdown(); });
  absl::SleepFor(absl::Milliseconds(20));
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  grpc::Status late = h.stub().Generate(&c, GreedyRequest(0, 2), &response);
  EXPECT_EQ(late.error_code(), grpc::UNAVAILABLE);
  for (auto& t : threads) t.join();
  shutdown.join();
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(results[k].status.ok()) << k << ": " << results[k].status.error_message();
    EXPECT_EQ(results[k].tokens, ReferenceGreedy(k));
  }
}

}  // namespace
}  // namespace ember::testing
