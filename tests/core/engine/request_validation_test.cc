// ValidateGenerationRequest and ValidateSamplingParams (core/engine/request_validation.h): each
// rule refuses a request that breaks it with INVALID_ARGUMENT `field: problem`, the field named by
// its path in the API (generation.proto), and the limits themselves are accepted. The same rules
// through the real server, with Engine::Submit's checks that need the model, and every message's
// field checked against the proto's descriptor: tests/server/server_bad_request_test.cc.
#include "core/engine/request_validation.h"

#include <functional>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "core/engine/beam_search.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// A decoder-only model of 512 tokens, with the default stop-string bounds (16 of 256 bytes).
RequestLimits Limits() {
  RequestLimits limits;
  limits.vocab_size = 512;
  limits.max_new_tokens_limit = 4096;
  return limits;
}

GenerationRequest Good() {
  GenerationRequest r;
  r.request_id = "req-1";
  r.prompt_tokens = {1, 2, 3};
  r.max_new_tokens = 8;
  return r;
}

// Beam search as the server maps it: 4 beams, temperature 0.
void Beam(GenerationRequest& r) {
  r.sampling.temperature = 0;
  r.beam.num_beams = 4;
}

struct BadCase {
  std::string name;
  std::function<void(GenerationRequest&)> mutate;
  std::string message;  // the whole status message
};

std::vector<BadCase> BadCases() {
  auto beam = [](std::function<void(GenerationRequest&)> mutate) {
    return [mutate](GenerationRequest& r) {
      Beam(r);
      mutate(r);
    };
  };
  const std::string beams = "not supported with beam search (beam.num_beams = 4)";
  const std::string sampled = beams + ", which does not sample; leave it ";
  return {
      // request_id
      {"request_id of 129 characters", [](auto& r) { r.request_id.assign(129, 'x'); },
       "request_id: longer than 128 characters"},
      {"request_id with a tab", [](auto& r) { r.request_id = "tab\tin id"; },
       "request_id: must be printable ASCII"},
      {"request_id not ASCII", [](auto& r) { r.request_id = "caf\xC3\xA9"; },
       "request_id: must be printable ASCII"},
      // prompt / prompt_token_ids
      {"no prompt", [](auto& r) { r.prompt_tokens.clear(); }, "prompt: must not be empty"},
      {"prompt and ids", [](auto& r) { r.prompt = "hi"; },
       "prompt_token_ids: give either prompt or prompt_token_ids, not both"},
      {"prompt not UTF-8",
       [](auto& r) {
         r.prompt_tokens.clear();
         r.prompt = "caf\xC3";
       },
       "prompt: not valid UTF-8 at byte 3"},
      {"prompt a lone surrogate",
       [](auto& r) {
         r.prompt_tokens.clear();
         r.prompt = "a\xED\xA0\x80";
       },
       "prompt: not valid UTF-8 at byte 1"},
      {"id -3", [](auto& r) { r.prompt_tokens[0] = -3; },
       "prompt_token_ids[0]: -3 is outside the vocabulary [0, 512)"},
      {"id == vocab", [](auto& r) { r.prompt_tokens[2] = 512; },
       "prompt_token_ids[2]: 512 is outside the vocabulary [0, 512)"},
      // max_new_tokens
      {"max_new_tokens -1", [](auto& r) { r.max_new_tokens = -1; },
       "max_new_tokens: must be in [0, 4096], got -1"},
      {"max_new_tokens limit + 1", [](auto& r) { r.max_new_tokens = 4097; },
       "max_new_tokens: must be in [0, 4096], got 4097"},
      // stop
      {"17 stop strings", [](auto& r) { r.stop.assign(17, "x"); },
       "stop: at most 16 stop strings, got 17"},
      {"stop[1] empty",
       [](auto& r) {
         r.stop = {"ok", ""};
       },
       "stop[1]: must not be empty"},
      {"stop of 257 bytes", [](auto& r) { r.stop = {std::string(257, 'a')}; },
       "stop[0]: longer than 256 bytes"},
      {"stop not UTF-8",
       [](auto& r) {
         r.stop = {"a", "b", "ab\xFE"};
       },
       "stop[2]: not valid UTF-8 at byte 2"},
      // sampling (and top_logprobs, a top-level field of the API)
      {"temperature -1", [](auto& r) { r.sampling.temperature = -1; },
       "sampling.temperature: must be in [0, 100], got -1"},
      {"temperature NaN", [](auto& r) { r.sampling.temperature = kNan; },
       "sampling.temperature: must be in [0, 100], got nan"},
      {"temperature 100.5", [](auto& r) { r.sampling.temperature = 100.5f; },
       "sampling.temperature: must be in [0, 100], got 100.5"},
      {"top_k -1", [](auto& r) { r.sampling.top_k = -1; }, "sampling.top_k: must be >= 0, got -1"},
      {"top_p 1.5", [](auto& r) { r.sampling.top_p = 1.5f; },
       "sampling.top_p: must be in (0, 1], got 1.5"},
      {"top_p 0", [](auto& r) { r.sampling.top_p = 0; },
       "sampling.top_p: must be in (0, 1], got 0"},
      {"min_p 2", [](auto& r) { r.sampling.min_p = 2; },
       "sampling.min_p: must be in [0, 1], got 2"},
      {"repetition_penalty 0", [](auto& r) { r.sampling.repetition_penalty = 0; },
       "sampling.repetition_penalty: must be in (0, 10], got 0"},
      {"repetition_penalty Inf", [](auto& r) { r.sampling.repetition_penalty = kInf; },
       "sampling.repetition_penalty: must be in (0, 10], got inf"},
      {"presence_penalty 3", [](auto& r) { r.sampling.presence_penalty = 3; },
       "sampling.presence_penalty: must be in [-2, 2], got 3"},
      {"frequency_penalty -Inf", [](auto& r) { r.sampling.frequency_penalty = -kInf; },
       "sampling.frequency_penalty: must be in [-2, 2], got -inf"},
      {"top_logprobs 21", [](auto& r) { r.sampling.top_logprobs = 21; },
       "top_logprobs: must be in [0, 20], got 21"},
      {"top_logprobs -1", [](auto& r) { r.sampling.top_logprobs = -1; },
       "top_logprobs: must be in [0, 20], got -1"},
      {"prompt_top_logprobs 21", [](auto& r) { r.prompt_top_logprobs = 21; },
       "prompt_top_logprobs: must be in [0, 20], got 21"},
      {"prompt_top_logprobs -1", [](auto& r) { r.prompt_top_logprobs = -1; },
       "prompt_top_logprobs: must be in [0, 20], got -1"},
      // beam: its own fields
      {"num_beams 65", [](auto& r) { r.beam.num_beams = kMaxNumBeams + 1; },
       "beam.num_beams: must be in [0, 64], got 65"},
      {"num_beams -1", [](auto& r) { r.beam.num_beams = -1; },
       "beam.num_beams: must be in [0, 64], got -1"},
      {"length_penalty NaN", beam([](auto& r) { r.beam.length_penalty = kNan; }),
       "beam.length_penalty: must be finite, got nan"},
      {"early_stopping 7",
       beam([](auto& r) { r.beam.early_stopping = static_cast<EarlyStopping>(7); }),
       "beam.early_stopping: unknown value 7"},
      {"no_repeat_ngram_size -1", beam([](auto& r) { r.beam.no_repeat_ngram_size = -1; }),
       "beam.no_repeat_ngram_size: must be >= 0, got -1"},
      {"num_return_sequences 5 of 4 beams", beam([](auto& r) { r.beam.num_return_sequences = 5; }),
       "beam.num_return_sequences: must be in [0, beam.num_beams = 4], got 5"},
      {"num_return_sequences -1 without beams", [](auto& r) { r.beam.num_return_sequences = -1; },
       "beam.num_return_sequences: must be in [0, beam.num_beams = 1], got -1"},
      {"no_repeat_ngram_size without beams", [](auto& r) { r.beam.no_repeat_ngram_size = 2; },
       "beam.no_repeat_ngram_size: needs beam search (beam.num_beams > 1)"},
      {"no_repeat_ngram_size on a decoder-only model",
       beam([](auto& r) { r.beam.no_repeat_ngram_size = 2; }),
       "beam.no_repeat_ngram_size: available for encoder-decoder (translation) models only"},
      // beam: what it excludes, in one wording
      {"beam with temperature 1", beam([](auto& r) { r.sampling.temperature = 1; }),
       "sampling.temperature: " + sampled + "unset or 0, got 1"},
      {"beam with top_k", beam([](auto& r) { r.sampling.top_k = 5; }),
       "sampling.top_k: " + sampled + "0, got 5"},
      {"beam with top_p", beam([](auto& r) { r.sampling.top_p = 0.5f; }),
       "sampling.top_p: " + sampled + "unset or 1, got 0.5"},
      {"beam with min_p", beam([](auto& r) { r.sampling.min_p = 0.25f; }),
       "sampling.min_p: " + sampled + "0, got 0.25"},
      {"beam with repetition_penalty", beam([](auto& r) { r.sampling.repetition_penalty = 1.5f; }),
       "sampling.repetition_penalty: " + sampled + "unset or 1, got 1.5"},
      {"beam with presence_penalty", beam([](auto& r) { r.sampling.presence_penalty = 0.5f; }),
       "sampling.presence_penalty: " + sampled + "0, got 0.5"},
      {"beam with frequency_penalty", beam([](auto& r) { r.sampling.frequency_penalty = -1; }),
       "sampling.frequency_penalty: " + sampled + "0, got -1"},
      {"beam with a stop string", beam([](auto& r) { r.stop = {"."}; }), "stop: " + beams},
      {"beam with ignore_eos", beam([](auto& r) { r.ignore_eos = true; }), "ignore_eos: " + beams},
      {"beam with logprobs", beam([](auto& r) { r.sampling.logprobs = true; }),
       "logprobs: " + beams},
      {"beam with top_logprobs", beam([](auto& r) { r.sampling.top_logprobs = 1; }),
       "top_logprobs: " + beams},
      {"beam with prompt_logprobs", beam([](auto& r) { r.prompt_logprobs = true; }),
       "prompt_logprobs: " + beams},
      {"beam with prompt_top_logprobs", beam([](auto& r) { r.prompt_top_logprobs = 2; }),
       "prompt_top_logprobs: " + beams},
  };
}

TEST(RequestValidationTest, AGoodRequestPasses) {
  EXPECT_TRUE(ValidateGenerationRequest(Good(), Limits()).ok());
  GenerationRequest beam = Good();
  Beam(beam);
  EXPECT_TRUE(ValidateGenerationRequest(beam, Limits()).ok());
}

TEST(RequestValidationTest, EveryRuleRefusesNamingTheField) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    GenerationRequest r = Good();
    c.mutate(r);
    const absl::Status s = ValidateGenerationRequest(r, Limits());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message(), c.message);
  }
}

// The README's promise: `field: problem`, with the API's field path (a repeated field's element
// as `name[i]`, a nested one as `message.field`).
TEST(RequestValidationTest, EveryMessageIsFieldColonProblem) {
  const std::regex form(R"(^[a-z_]+(\[[0-9]+\])?(\.[a-z_]+(\[[0-9]+\])?)*: .+)");
  for (const BadCase& c : BadCases()) {
    GenerationRequest r = Good();
    c.mutate(r);
    const std::string message(ValidateGenerationRequest(r, Limits()).message());
    EXPECT_TRUE(std::regex_match(message, form)) << c.name << ": " << message;
  }
}

TEST(RequestValidationTest, TheLimitsThemselvesAreAccepted) {
  std::vector<std::function<void(GenerationRequest&)>> edges = {
      [](auto& r) { r.request_id.assign(kMaxRequestIdBytes, '~'); },
      [](auto& r) { r.request_id.clear(); },
      [](auto& r) {
        r.prompt_tokens.clear();
        r.prompt = "Gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80";  // 2-, 3- and 4-byte UTF-8
      },
      [](auto& r) {
        r.prompt_tokens = {0, 511};
      },
      [](auto& r) { r.max_new_tokens = 0; },  // the engine's default
      [](auto& r) { r.max_new_tokens = 4096; },
      [](auto& r) {
        for (int i = 0; i < 16; ++i) r.stop.push_back(std::string(256, static_cast<char>('a' + i)));
      },
      [](auto& r) {
        r.sampling.temperature = 100;
        r.sampling.top_p = 1;
        r.sampling.min_p = 1;
        r.sampling.repetition_penalty = 10;
        r.sampling.presence_penalty = -2;
        r.sampling.frequency_penalty = 2;
        r.sampling.logprobs = true;
        r.sampling.top_logprobs = kMaxTopLogprobs;
      },
      [](auto& r) { r.sampling.temperature = 0; },
      // One beam (0 or 1) is off: beam fields that mean nothing then are not errors.
      [](auto& r) {
        r.beam.num_beams = 0;
        r.beam.num_return_sequences = 1;
        r.beam.length_penalty = -3;
        r.sampling.top_k = 40;
      },
      [](auto& r) {
        Beam(r);
        r.beam.num_beams = kMaxNumBeams;
        r.beam.num_return_sequences = kMaxNumBeams;
        r.beam.early_stopping = EarlyStopping::kNever;
        r.sampling.seed = 7;  // allowed, unused
      },
      [](auto& r) {
        Beam(r);
        r.beam.num_return_sequences = 0;  // means 1
        r.sampling.top_p = 1;
        r.sampling.repetition_penalty = 1;
      },
  };
  for (size_t i = 0; i < edges.size(); ++i) {
    GenerationRequest r = Good();
    edges[i](r);
    const absl::Status s = ValidateGenerationRequest(r, Limits());
    EXPECT_TRUE(s.ok()) << "edge " << i << ": " << s;
  }
}

TEST(RequestValidationTest, NoRepeatNgramNeedsAnEncoderDecoder) {
  GenerationRequest r = Good();
  Beam(r);
  r.beam.no_repeat_ngram_size = 2;
  EXPECT_EQ(ValidateGenerationRequest(r, Limits()).code(), absl::StatusCode::kInvalidArgument);
  RequestLimits translation = Limits();
  translation.encoder_decoder = true;
  EXPECT_TRUE(ValidateGenerationRequest(r, translation).ok());
}

TEST(RequestValidationTest, PromptLogprobsNeedADecoderOnlyModel) {
  GenerationRequest r = Good();
  r.prompt_logprobs = true;
  EXPECT_TRUE(ValidateGenerationRequest(r, Limits()).ok());
  RequestLimits translation = Limits();
  translation.encoder_decoder = true;
  EXPECT_EQ(ValidateGenerationRequest(r, translation).message(),
            "prompt_logprobs: available for decoder-only models only (a translation model's "
            "prompt is its source sentence, which it does not predict)");
  r.prompt_logprobs = false;
  r.prompt_top_logprobs = 1;
  EXPECT_EQ(ValidateGenerationRequest(r, translation).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RequestValidationTest, TheLimitsComeFromTheStruct) {
  RequestLimits small = Limits();
  small.vocab_size = 3;
  small.max_new_tokens_limit = 8;
  small.max_stop_strings = 1;
  small.max_stop_string_bytes = 2;
  GenerationRequest r = Good();
  EXPECT_EQ(ValidateGenerationRequest(r, small).message(),
            "prompt_token_ids[2]: 3 is outside the vocabulary [0, 3)");
  r.prompt_tokens = {0, 1, 2};
  EXPECT_TRUE(ValidateGenerationRequest(r, small).ok());
  r.max_new_tokens = 9;
  EXPECT_EQ(ValidateGenerationRequest(r, small).message(),
            "max_new_tokens: must be in [0, 8], got 9");
  r.max_new_tokens = 8;
  r.stop = {"ab", "c"};
  EXPECT_EQ(ValidateGenerationRequest(r, small).message(), "stop: at most 1 stop strings, got 2");
  r.stop = {"abc"};
  EXPECT_EQ(ValidateGenerationRequest(r, small).message(), "stop[0]: longer than 2 bytes");
}

TEST(RequestValidationTest, SamplingParamsAloneUseTheSameNames) {
  EXPECT_TRUE(ValidateSamplingParams(SamplingParams{}).ok());
  SamplingParams p;
  p.top_p = kNan;
  EXPECT_EQ(ValidateSamplingParams(p).message(), "sampling.top_p: must be in (0, 1], got nan");
  p = {};
  p.top_logprobs = 21;
  EXPECT_EQ(ValidateSamplingParams(p).message(), "top_logprobs: must be in [0, 20], got 21");
}

}  // namespace
}  // namespace ember
