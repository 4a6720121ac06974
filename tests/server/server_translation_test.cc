// The gRPC API on an encoder-decoder (MarianMT) model: Generate / GenerateStream with the source
// text as the prompt, greedy and beam search, against the independent PyTorch reference
// (tests/fixtures/marian_reference/tiny-marian.json, made from the same generator preset and seed),
// the beam fields' mapping (ToGenerationRequest) and validation end to end (the rules' unit tests
// are tests/core/engine/request_validation_test.cc), and ListModels.
#include <cmath>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/request_conversion.h"
#include "tests/server/server_test_fixture.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;

// Scores are f32 sums of ~20 log-probabilities computed by two implementations; the reference's
// ranking gaps (min_gap) of the cases used here are >= 1e-3.
constexpr double kScoreTolerance = 2e-4;

const nlohmann::json& Reference() {
  static const nlohmann::json* j = [] {
    std::ifstream in(SourceDir() + "/tests/fixtures/marian_reference/tiny-marian.json");
    EXPECT_TRUE(in.good());
    return new nlohmann::json(nlohmann::json::parse(in));
  }();
  return *j;
}

const nlohmann::json& Sentence(size_t i) { return Reference()["results"][i]; }

std::vector<int32_t> Ids(const google::protobuf::RepeatedField<int32_t>& ids) {
  return {ids.begin(), ids.end()};
}

// A greedy translation request for reference sentence i (the reference's max_new_tokens).
ember::v1::GenerateRequest GreedyTranslation(size_t i) {
  ember::v1::GenerateRequest r;
  r.set_prompt(Sentence(i)["source"].get<std::string>());
  r.mutable_sampling()->set_temperature(0);
  r.set_max_new_tokens(Reference()["greedy_config"]["max_new_tokens"].get<int>());
  r.set_return_token_ids(true);
  return r;
}

// A beam search request for reference sentence i with the reference's beam config c.
ember::v1::GenerateRequest BeamTranslation(size_t i, size_t c) {
  const nlohmann::json& config = Reference()["beam_configs"][c];
  ember::v1::GenerateRequest r;
  r.set_prompt(Sentence(i)["source"].get<std::string>());
  r.set_max_new_tokens(config["max_new_tokens"].get<int>());
  r.set_return_token_ids(true);
  ember::v1::BeamSearch& beam = *r.mutable_beam();
  beam.set_num_beams(config["num_beams"].get<int>());
  beam.set_length_penalty(config["length_penalty"].get<float>());
  const nlohmann::json& early = config["early_stopping"];
  beam.set_early_stopping(early.is_string()   ? ember::v1::EARLY_STOPPING_NEVER
                          : early.get<bool>() ? ember::v1::EARLY_STOPPING_TRUE
                                              : ember::v1::EARLY_STOPPING_HEURISTIC);
  beam.set_no_repeat_ngram_size(config["no_repeat_ngram_size"].get<int>());
  beam.set_num_return_sequences(config["num_return_sequences"].get<int>());
  return r;
}

struct StreamResult {
  grpc::Status status;
  std::string text;
  std::vector<int32_t> tokens;
  ember::v1::GenerateStreamResponse last;
  int messages = 0;
};

StreamResult Stream(ember::v1::Generation::Stub& stub, const ember::v1::GenerateRequest& request) {
  grpc::ClientContext context;
  StreamResult r;
  auto reader = stub.GenerateStream(&context, request);
  ember::v1::GenerateStreamResponse m;
  while (reader->Read(&m)) {
    r.text += m.text();
    for (int32_t t : m.token_ids()) r.tokens.push_back(t);
    r.last = m;
    ++r.messages;
  }
  r.status = reader->Finish();
  return r;
}

// ---------------------------------------------------------------------------------------------
// ToGenerationRequest's mapping of `beam` (no server needed).

ember::v1::GenerateRequest BeamRequest() {
  ember::v1::GenerateRequest r;
  r.set_prompt("The cat sleeps.");
  r.mutable_beam()->set_num_beams(4);
  return r;
}

TEST(BeamRequestConversionTest, ZeroOrOneBeamLeavesSamplingAlone) {
  for (int beams : {0, 1}) {
    ember::v1::GenerateRequest r;
    r.set_prompt("x");
    r.mutable_beam()->set_num_beams(beams);
    r.mutable_beam()->set_num_return_sequences(1);
    r.mutable_beam()->set_length_penalty(0.5f);  // meaningless with one beam; not an error
    auto out = ToGenerationRequest(r, "tiny-marian");
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->beam.num_beams, beams);       // both mean off (BeamParams)
    EXPECT_EQ(out->sampling.temperature, 1.0f);  // sampling untouched
  }
}

TEST(BeamRequestConversionTest, CopiesEveryFieldAndMakesSamplingGreedy) {
  ember::v1::GenerateRequest r = BeamRequest();
  r.mutable_beam()->set_length_penalty(0.6f);
  r.mutable_beam()->set_early_stopping(ember::v1::EARLY_STOPPING_NEVER);
  r.mutable_beam()->set_no_repeat_ngram_size(3);
  r.mutable_beam()->set_num_return_sequences(2);
  r.mutable_sampling()->set_seed(7);
  auto out = ToGenerationRequest(r, "tiny-marian");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->beam.num_beams, 4);
  EXPECT_DOUBLE_EQ(out->beam.length_penalty, 0.6f);
  EXPECT_EQ(out->beam.early_stopping, EarlyStopping::kNever);
  EXPECT_EQ(out->beam.no_repeat_ngram_size, 3);
  EXPECT_EQ(out->beam.num_return_sequences, 2);
  EXPECT_EQ(out->sampling.temperature, 0.0f);
  EXPECT_EQ(out->sampling.seed, 7u);

  // Defaults: length_penalty 1.0, heuristic stopping, num_return_sequences 0 (one sequence);
  // temperature 0 may be explicit.
  ember::v1::GenerateRequest d = BeamRequest();
  d.mutable_sampling()->set_temperature(0);
  out = ToGenerationRequest(d, "tiny-marian");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->beam.length_penalty, 1.0);
  EXPECT_EQ(out->beam.early_stopping, EarlyStopping::kHeuristic);
  EXPECT_EQ(out->beam.num_return_sequences, 0);
}

struct BadBeam {
  std::string name;
  std::function<void(ember::v1::GenerateRequest&)> mutate;
  std::string expect;  // the message must contain it
};

std::vector<BadBeam> BadBeamRequests() {
  using R = ember::v1::GenerateRequest;
  return {
      {"too_many_beams", [](R& r) { r.mutable_beam()->set_num_beams(65); },
       "beam.num_beams: must be in [0, 64], got 65"},
      {"negative_beams", [](R& r) { r.mutable_beam()->set_num_beams(-1); }, "beam.num_beams"},
      {"more_sequences_than_beams", [](R& r) { r.mutable_beam()->set_num_return_sequences(5); },
       "beam.num_return_sequences: must be in [0, beam.num_beams = 4], got 5"},
      {"sequences_without_beams",
       [](R& r) {
         r.mutable_beam()->set_num_beams(0);
         r.mutable_beam()->set_num_return_sequences(2);
       },
       "beam.num_return_sequences"},
      {"nan_length_penalty", [](R& r) { r.mutable_beam()->set_length_penalty(std::nanf("")); },
       "beam.length_penalty"},
      {"unknown_early_stopping",
       [](R& r) { r.mutable_beam()->set_early_stopping(static_cast<ember::v1::EarlyStopping>(7)); },
       "beam.early_stopping"},
      {"negative_ngram", [](R& r) { r.mutable_beam()->set_no_repeat_ngram_size(-1); },
       "beam.no_repeat_ngram_size"},
      {"ngram_without_beams",
       [](R& r) {
         r.mutable_beam()->set_num_beams(1);
         r.mutable_beam()->set_no_repeat_ngram_size(2);
       },
       "beam.no_repeat_ngram_size: needs beam search"},
      {"temperature", [](R& r) { r.mutable_sampling()->set_temperature(0.7f); },
       "sampling.temperature: not supported with beam search (beam.num_beams = 4)"},
      {"top_k", [](R& r) { r.mutable_sampling()->set_top_k(5); }, "sampling.top_k"},
      {"top_p", [](R& r) { r.mutable_sampling()->set_top_p(0.9f); }, "sampling.top_p"},
      {"min_p", [](R& r) { r.mutable_sampling()->set_min_p(0.1f); }, "sampling.min_p"},
      {"repetition_penalty", [](R& r) { r.mutable_sampling()->set_repetition_penalty(1.2f); },
       "sampling.repetition_penalty"},
      {"presence_penalty", [](R& r) { r.mutable_sampling()->set_presence_penalty(0.5f); },
       "sampling.presence_penalty"},
      {"frequency_penalty", [](R& r) { r.mutable_sampling()->set_frequency_penalty(0.5f); },
       "sampling.frequency_penalty"},
      {"stop", [](R& r) { r.add_stop()->assign(1, '.'); }, "stop: not supported with beam search"},
      {"logprobs", [](R& r) { r.set_logprobs(true); }, "logprobs: not supported with beam search"},
      {"ignore_eos", [](R& r) { r.set_ignore_eos(true); }, "ignore_eos: not supported"},
      {"top_logprobs", [](R& r) { r.set_top_logprobs(2); }, "top_logprobs"},
  };
}

// ---------------------------------------------------------------------------------------------
// The server on tiny-marian.

class ServerTranslationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerOptions options = TestServerOptions();
    options.engine.model_dir = TinyMarianDir();
    harness_ = new ServerHarness(options);
  }
  static void TearDownTestSuite() { delete harness_; }

  static grpc::Status Generate(const ember::v1::GenerateRequest& request,
                               ember::v1::GenerateResponse* response) {
    grpc::ClientContext context;
    return harness_->stub().Generate(&context, request, response);
  }

  static ServerHarness* harness_;
};
ServerHarness* ServerTranslationTest::harness_ = nullptr;

TEST_F(ServerTranslationTest, UnaryGenerateTranslatesTheSource) {
  ember::v1::GenerateResponse response;
  const grpc::Status s = Generate(GreedyTranslation(0), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(response.text().empty());
  EXPECT_EQ(response.text(), Sentence(0)["greedy_text"].get<std::string>());
  EXPECT_EQ(Ids(response.token_ids()), Sentence(0)["greedy"].get<std::vector<int32_t>>());
  // The reference ends on the eos forced at the last step, which counts as the length limit.
  ASSERT_EQ(Sentence(0)["finish"].get<std::string>(), "length");
  EXPECT_EQ(response.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  // Usage.prompt_tokens of a translation model counts the source tokens (generation.proto).
  EXPECT_EQ(response.usage().prompt_tokens(),
            static_cast<int32_t>(Sentence(0)["source_ids"].size()));
  EXPECT_EQ(response.usage().generated_tokens(), response.token_ids_size());
  EXPECT_EQ(response.hypotheses_size(), 0);  // not a beam search
  EXPECT_FALSE(response.model().empty());
}

TEST_F(ServerTranslationTest, StreamedPiecesConcatenateToTheUnaryText) {
  for (size_t i : {size_t{1}, size_t{4}}) {
    ember::v1::GenerateResponse unary;
    const grpc::Status s = Generate(GreedyTranslation(i), &unary);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const StreamResult streamed = Stream(harness_->stub(), GreedyTranslation(i));
    ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
    EXPECT_EQ(streamed.text, unary.text()) << "sentence " << i;
    EXPECT_EQ(streamed.tokens, Ids(unary.token_ids())) << "sentence " << i;
    EXPECT_EQ(streamed.last.finish_reason(), unary.finish_reason());
    EXPECT_EQ(streamed.last.usage().generated_tokens(), unary.usage().generated_tokens());
    EXPECT_EQ(streamed.last.hypotheses_size(), 0);
  }
}

// Checks `hypotheses` against reference sentence i's beam config c (its first `n` hypotheses).
void ExpectReferenceHypotheses(
    const google::protobuf::RepeatedPtrField<ember::v1::Hypothesis>& hypotheses, size_t i, size_t c,
    int n) {
  const nlohmann::json* ref = nullptr;
  for (const nlohmann::json& b : Sentence(i)["beam"]) {
    if (b["config"].get<size_t>() == c) ref = &b["hypotheses"];
  }
  ASSERT_NE(ref, nullptr);
  ASSERT_EQ(hypotheses.size(), n);
  for (int k = 0; k < n; ++k) {
    const nlohmann::json& want = (*ref)[static_cast<size_t>(k)];
    const ember::v1::Hypothesis& got = hypotheses[k];
    SCOPED_TRACE(::testing::Message() << "sentence " << i << " config " << c << " hyp " << k);
    EXPECT_EQ(got.text(), want["text"].get<std::string>());
    EXPECT_EQ(Ids(got.token_ids()), want["tokens"].get<std::vector<int32_t>>());
    EXPECT_NEAR(got.score(), want["score"].get<double>(), kScoreTolerance);
    EXPECT_NEAR(got.sum_logprob(), want["sum_logprobs"].get<double>(), 20 * kScoreTolerance);
  }
}

TEST_F(ServerTranslationTest, BeamSearchReturnsTheNBestListSortedByScore) {
  ember::v1::GenerateRequest request = BeamTranslation(0, 0);  // 4 beams, length_penalty 1
  request.mutable_beam()->set_num_return_sequences(3);
  ember::v1::GenerateResponse response;
  const grpc::Status s = Generate(request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.hypotheses_size(), 3);
  for (int k = 1; k < 3; ++k) {
    EXPECT_GE(response.hypotheses(k - 1).score(), response.hypotheses(k).score()) << k;
  }
  EXPECT_EQ(response.hypotheses(0).text(), response.text());
  EXPECT_EQ(Ids(response.hypotheses(0).token_ids()), Ids(response.token_ids()));
  for (const ember::v1::Hypothesis& h : response.hypotheses()) {
    // length_penalty 1: score = sum_logprob / length.
    EXPECT_NEAR(h.score(), h.sum_logprob() / h.token_ids_size(), 1e-6 * std::fabs(h.score()));
  }
  EXPECT_EQ(response.usage().prompt_tokens(),
            static_cast<int32_t>(Sentence(0)["source_ids"].size()));
  EXPECT_NE(response.finish_reason(), ember::v1::FINISH_REASON_UNSPECIFIED);
  ExpectReferenceHypotheses(response.hypotheses(), 0, 0, 3);

  // Without return_token_ids the hypotheses carry no ids either.
  request.set_return_token_ids(false);
  ember::v1::GenerateResponse bare;
  ASSERT_TRUE(Generate(request, &bare).ok());
  ASSERT_EQ(bare.hypotheses_size(), 3);
  EXPECT_EQ(bare.hypotheses(0).token_ids_size(), 0);
  EXPECT_EQ(bare.hypotheses(2).text(), response.hypotheses(2).text());
}

TEST_F(ServerTranslationTest, BeamSearchMatchesTheReferenceForEveryOption) {
  // (sentence, config) pairs whose reference ranking gaps are >= 1e-3: config 1 stops early
  // (length_penalty 0.6), 2 bans repeated bigrams, 3 never stops early (length_penalty 2).
  for (const auto& [i, c] : std::vector<std::pair<size_t, size_t>>{{0, 1}, {3, 2}, {0, 3}}) {
    const ember::v1::GenerateRequest request = BeamTranslation(i, c);
    ember::v1::GenerateResponse response;
    const grpc::Status s = Generate(request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ExpectReferenceHypotheses(response.hypotheses(), i, c, request.beam().num_return_sequences());
  }
}

TEST_F(ServerTranslationTest, BeamSearchStreamsOneFinalMessage) {
  ember::v1::GenerateRequest request = BeamTranslation(0, 3);  // 2 beams, 2 sequences
  ember::v1::GenerateResponse unary;
  ASSERT_TRUE(Generate(request, &unary).ok());
  request.set_return_token_ids(false);  // GenerateStream sends the ids regardless
  const StreamResult streamed = Stream(harness_->stub(), request);
  ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
  EXPECT_EQ(streamed.messages, 1);
  EXPECT_EQ(streamed.text, unary.text());
  EXPECT_EQ(streamed.tokens, Ids(unary.token_ids()));
  EXPECT_EQ(streamed.last.finish_reason(), unary.finish_reason());
  ASSERT_EQ(streamed.last.hypotheses_size(), 2);
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(streamed.last.hypotheses(k).text(), unary.hypotheses(k).text());
    EXPECT_EQ(Ids(streamed.last.hypotheses(k).token_ids()), Ids(unary.hypotheses(k).token_ids()));
    EXPECT_EQ(streamed.last.hypotheses(k).score(), unary.hypotheses(k).score());
  }
}

TEST_F(ServerTranslationTest, ZeroOrOneBeamIsGreedy) {
  ember::v1::GenerateResponse greedy;
  ASSERT_TRUE(Generate(GreedyTranslation(2), &greedy).ok());
  for (int beams : {0, 1}) {
    ember::v1::GenerateRequest request = GreedyTranslation(2);
    request.mutable_beam()->set_num_beams(beams);
    request.mutable_beam()->set_num_return_sequences(beams);
    ember::v1::GenerateResponse response;
    const grpc::Status s = Generate(request, &response);
    ASSERT_TRUE(s.ok()) << beams << ": " << s.error_message();
    EXPECT_EQ(response.text(), greedy.text()) << beams;
    EXPECT_EQ(response.hypotheses_size(), 0) << beams;
  }
}

TEST_F(ServerTranslationTest, BadBeamFieldsAreInvalidArgumentNamingTheField) {
  for (const BadBeam& bad : BadBeamRequests()) {
    ember::v1::GenerateRequest request = BeamTranslation(5, 0);
    request.mutable_beam()->set_num_return_sequences(0);  // as BeamRequest(), so one field is bad
    bad.mutate(request);
    ember::v1::GenerateResponse response;
    const grpc::Status unary = Generate(request, &response);
    EXPECT_EQ(unary.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.name;
    EXPECT_THAT(unary.error_message(), HasSubstr(bad.expect)) << bad.name;
    const StreamResult streamed = Stream(harness_->stub(), request);
    EXPECT_EQ(streamed.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.name;
    EXPECT_THAT(streamed.status.error_message(), HasSubstr(bad.expect)) << bad.name;
    EXPECT_EQ(streamed.messages, 0) << bad.name;
  }
}

TEST_F(ServerTranslationTest, ListModelsReportsAnEncoderDecoder) {
  grpc::ClientContext context;
  ember::v1::ListModelsResponse models;
  ASSERT_TRUE(harness_->stub().ListModels(&context, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_TRUE(models.models(0).encoder_decoder());
  EXPECT_EQ(models.models(0).model_type(), "marian");
  EXPECT_EQ(models.models(0).vocab_size(), Reference()["config"]["vocab_size"].get<int>());
}

TEST(ServerDecoderOnlyTest, ListModelsReportsNoEncoderDecoder) {
  ServerHarness harness;  // the tiny Llama
  grpc::ClientContext context;
  ember::v1::ListModelsResponse models;
  ASSERT_TRUE(harness.stub().ListModels(&context, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_FALSE(models.models(0).encoder_decoder());
}

}  // namespace
}  // namespace ember::testing
