// GCC 12 reports a false -Wrestrict inside std::string's copy when a string is assigned in a loop
// inside a lambda here (GCC bug 105329); nothing in this file overlaps memory.
#pragma GCC diagnostic ignored "-Wrestrict"

#include "tests/server/bad_generate_requests.h"

#include <limits>
#include <regex>

#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"

namespace ember::testing {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kIntMin = std::numeric_limits<int32_t>::min();

// A text prompt with an invalid UTF-8 sequence `bad` at byte 17.
std::function<void(ember::v1::GenerateRequest&)> BadPrompt(const std::string& bad) {
  return [bad](ember::v1::GenerateRequest& r) {
    r.clear_prompt_token_ids();
    r.set_prompt("Once upon a time " + bad + " there");
  };
}

// A beam search request (4 beams) built from the good request, which sets ignore_eos.
void Beam(ember::v1::GenerateRequest& r) {
  r.set_ignore_eos(false);
  r.mutable_beam()->set_num_beams(4);
}

}  // namespace

::testing::AssertionResult HasFieldForm(absl::string_view message,
                                        const google::protobuf::Message& request) {
  using google::protobuf::FieldDescriptor;
  static const std::regex kForm(R"(^([a-z_]+(\[[0-9]+\])?(\.[a-z_]+(\[[0-9]+\])?)*): )");
  const std::string text(message);
  std::smatch match;
  if (!std::regex_search(text, match, kForm)) {
    return ::testing::AssertionFailure() << "not of the form `field: problem`: " << text;
  }
  const google::protobuf::Message* at = &request;
  for (absl::string_view segment : absl::StrSplit(match.str(1), '.')) {
    if (at == nullptr) {
      return ::testing::AssertionFailure() << "the path continues past a scalar field: " << text;
    }
    const size_t open = segment.find('[');
    const FieldDescriptor* field =
        at->GetDescriptor()->FindFieldByName(std::string(segment.substr(0, open)));
    if (field == nullptr) {
      return ::testing::AssertionFailure() << "no field " << segment << " in "
                                           << at->GetDescriptor()->full_name() << ": " << text;
    }
    if (open != absl::string_view::npos) {
      const int index = std::stoi(std::string(segment.substr(open + 1)));
      if (!field->is_repeated() || index >= at->GetReflection()->FieldSize(*at, field)) {
        return ::testing::AssertionFailure() << "index outside the field as sent: " << text;
      }
    }
    at = field->type() == FieldDescriptor::TYPE_MESSAGE && !field->is_repeated()
             ? &at->GetReflection()->GetMessage(*at, field)
             : nullptr;
  }
  return ::testing::AssertionSuccess();
}

std::vector<BadGenerateRequest> BadGenerateRequests() {
  using Sampling = ember::v1::SamplingParameters;
  auto sampling = [](void (Sampling::*set)(float), float value, const std::string& field) {
    return BadGenerateRequest{"sampling." + field + "=" + std::to_string(value),
                              [=](auto& r) { (r.mutable_sampling()->*set)(value); },
                              grpc::INVALID_ARGUMENT, "sampling." + field + ": must be"};
  };
  auto invalid = [](std::string name, std::function<void(ember::v1::GenerateRequest&)> mutate,
                    std::string expect) {
    return BadGenerateRequest{std::move(name), std::move(mutate), grpc::INVALID_ARGUMENT,
                              std::move(expect)};
  };
  return {
      // The prompt.
      invalid(
          "no prompt", [](auto& r) { r.clear_prompt_token_ids(); }, "prompt: must not be empty"),
      invalid(
          "prompt and ids", [](auto& r) { r.set_prompt("hi"); },
          "prompt_token_ids: give either prompt or prompt_token_ids, not both"),
      invalid(
          "id -3", [](auto& r) { r.set_prompt_token_ids(0, -3); },
          "prompt_token_ids[0]: -3 is outside the vocabulary [0, 512)"),
      invalid(
          "id == vocab", [](auto& r) { r.set_prompt_token_ids(1, kTinyVocab); },
          "prompt_token_ids[1]"),
      invalid(
          "id INT_MAX", [](auto& r) { r.set_prompt_token_ids(2, kIntMax); }, "prompt_token_ids[2]"),
      invalid(
          "id INT_MIN", [](auto& r) { r.set_prompt_token_ids(0, kIntMin); }, "prompt_token_ids[0]"),
      invalid(
          "300 ids, over the context",
          [](auto& r) {
            r.clear_prompt_token_ids();
            for (int i = 0; i < 300; ++i) r.add_prompt_token_ids(5);
          },
          "prompt_token_ids: 300 tokens; the context length is 256"),
      invalid(
          "ids filling the context: no room for a new token",
          [](auto& r) {
            r.clear_prompt_token_ids();
            for (int i = 0; i < kTinyContext; ++i) r.add_prompt_token_ids(5);
          },
          "prompt_token_ids: 256 tokens"),
      invalid(
          "text prompt over the context",
          [](auto& r) {
            r.clear_prompt_token_ids();
            std::string text;
            for (int i = 0; i < 400; ++i) text += "hello ";
            r.set_prompt(text);
          },
          "tokens; the context length is 256"),
      invalid(
          "text prompt too long to tokenize",
          [](auto& r) {
            r.clear_prompt_token_ids();
            r.set_prompt(std::string(64 * 256 + 1, 'x'));
          },
          "prompt: 16385 bytes cannot fit the context of 256 tokens"),
      invalid("prompt: lone continuation byte", BadPrompt("\x80"),
              "prompt: not valid UTF-8 at byte 17"),
      invalid("prompt: truncated 3-byte sequence", BadPrompt("\xE2\x82"),
              "prompt: not valid UTF-8 at byte 17"),
      invalid("prompt: overlong '/'", BadPrompt("\xC0\xAF"), "prompt: not valid UTF-8 at byte 17"),
      invalid("prompt: UTF-16 surrogate", BadPrompt("\xED\xA0\x80"),
              "prompt: not valid UTF-8 at byte 17"),
      invalid("prompt: past U+10FFFF", BadPrompt("\xF4\x90\x80\x80"),
              "prompt: not valid UTF-8 at byte 17"),
      invalid("prompt: 0xFF", BadPrompt("\xFF"), "prompt: not valid UTF-8 at byte 17"),
      invalid(
          "prompt: sequence cut at the end",
          [](auto& r) {
            r.clear_prompt_token_ids();
            r.set_prompt("caf\xC3");
          },
          "prompt: not valid UTF-8 at byte 3"),
      // max_new_tokens (0 means the default; past the context is clamped, see the test below).
      invalid(
          "max_new_tokens -1", [](auto& r) { r.set_max_new_tokens(-1); }, "max_new_tokens"),
      invalid(
          "max_new_tokens limit+1", [](auto& r) { r.set_max_new_tokens(4097); },
          "max_new_tokens: must be in [0, 4096], got 4097"),
      invalid(
          "max_new_tokens 2^30", [](auto& r) { r.set_max_new_tokens(1 << 30); }, "max_new_tokens"),
      invalid(
          "max_new_tokens INT_MAX", [](auto& r) { r.set_max_new_tokens(kIntMax); },
          "max_new_tokens"),
      invalid(
          "max_new_tokens INT_MIN", [](auto& r) { r.set_max_new_tokens(kIntMin); },
          "max_new_tokens"),
      // Sampling: negative, NaN, ±Inf and out of range.
      sampling(&Sampling::set_temperature, -0.5f, "temperature"),
      sampling(&Sampling::set_temperature, kNan, "temperature"),
      sampling(&Sampling::set_temperature, kInf, "temperature"),
      sampling(&Sampling::set_temperature, -kInf, "temperature"),
      sampling(&Sampling::set_temperature, 100.5f, "temperature"),
      sampling(&Sampling::set_temperature, 101, "temperature"),
      sampling(&Sampling::set_top_p, 1.5f, "top_p"),
      sampling(&Sampling::set_top_p, 0, "top_p"),
      sampling(&Sampling::set_top_p, -0.1f, "top_p"),
      sampling(&Sampling::set_top_p, kNan, "top_p"),
      sampling(&Sampling::set_top_p, kInf, "top_p"),
      sampling(&Sampling::set_top_p, -kInf, "top_p"),
      sampling(&Sampling::set_min_p, 2, "min_p"),
      sampling(&Sampling::set_min_p, -0.1f, "min_p"),
      sampling(&Sampling::set_min_p, kNan, "min_p"),
      sampling(&Sampling::set_min_p, kInf, "min_p"),
      sampling(&Sampling::set_min_p, -kInf, "min_p"),
      sampling(&Sampling::set_repetition_penalty, 0, "repetition_penalty"),
      sampling(&Sampling::set_repetition_penalty, -1, "repetition_penalty"),
      sampling(&Sampling::set_repetition_penalty, 11, "repetition_penalty"),
      sampling(&Sampling::set_repetition_penalty, kNan, "repetition_penalty"),
      sampling(&Sampling::set_repetition_penalty, kInf, "repetition_penalty"),
      sampling(&Sampling::set_repetition_penalty, -kInf, "repetition_penalty"),
      sampling(&Sampling::set_presence_penalty, -3, "presence_penalty"),
      sampling(&Sampling::set_presence_penalty, 3, "presence_penalty"),
      sampling(&Sampling::set_presence_penalty, kNan, "presence_penalty"),
      sampling(&Sampling::set_presence_penalty, kInf, "presence_penalty"),
      sampling(&Sampling::set_presence_penalty, -kInf, "presence_penalty"),
      sampling(&Sampling::set_frequency_penalty, -3, "frequency_penalty"),
      sampling(&Sampling::set_frequency_penalty, 3, "frequency_penalty"),
      sampling(&Sampling::set_frequency_penalty, kNan, "frequency_penalty"),
      sampling(&Sampling::set_frequency_penalty, kInf, "frequency_penalty"),
      sampling(&Sampling::set_frequency_penalty, -kInf, "frequency_penalty"),
      invalid(
          "top_k -1", [](auto& r) { r.mutable_sampling()->set_top_k(-1); },
          "sampling.top_k: must be >= 0, got -1"),
      invalid(
          "top_k INT_MIN", [](auto& r) { r.mutable_sampling()->set_top_k(kIntMin); },
          "sampling.top_k"),
      // n-best (top_logprobs): negative or huge, refused before anything is allocated.
      invalid(
          "top_logprobs 21", [](auto& r) { r.set_top_logprobs(21); },
          "top_logprobs: must be in [0, 20], got 21"),
      invalid(
          "top_logprobs -1", [](auto& r) { r.set_top_logprobs(-1); }, "top_logprobs"),
      invalid(
          "top_logprobs INT_MIN", [](auto& r) { r.set_top_logprobs(kIntMin); }, "top_logprobs"),
      invalid(
          "top_logprobs 2^20 with logprobs",
          [](auto& r) {
            r.set_logprobs(true);
            r.set_top_logprobs(1 << 20);
          },
          "top_logprobs"),
      invalid(
          "top_logprobs INT_MAX", [](auto& r) { r.set_top_logprobs(kIntMax); }, "top_logprobs"),
      // Stop strings: too many, too long, empty, not UTF-8.
      invalid(
          "stop[0] empty", [](auto& r) { r.add_stop(""); }, "stop[0]: must not be empty"),
      invalid(
          "stop[1] empty",
          [](auto& r) {
            r.add_stop("ok");
            r.add_stop("");
          },
          "stop[1]: must not be empty"),
      invalid(
          "17 stop strings",
          [](auto& r) {
            for (int i = 0; i < 17; ++i) r.add_stop("x");
          },
          "stop: at most 16 stop strings, got 17"),
      invalid(
          "10000 stop strings",
          [](auto& r) {
            for (int i = 0; i < 10000; ++i) r.add_stop("x");
          },
          "stop: at most 16"),
      invalid(
          "stop of 300 bytes", [](auto& r) { r.add_stop()->assign(300, 'a'); },
          "stop[0]: longer than 256 bytes"),
      invalid(
          "stop of 257 bytes", [](auto& r) { r.add_stop()->assign(257, 'a'); },
          "stop[0]: longer than 256"),
      invalid(
          "stop of 100 euro signs (300 bytes)",
          [](auto& r) {
            std::string euros;
            for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";
            r.add_stop(euros);
          },
          "stop[0]: longer than 256"),
      invalid(
          "stop[2] not UTF-8",
          [](auto& r) {
            r.add_stop("a");
            r.add_stop("b");
            r.add_stop("ab\xFE");
          },
          "stop[2]: not valid UTF-8 at byte 2"),
      // The model.
      {"unknown model", [](auto& r) { r.set_model("no-such-model"); }, grpc::NOT_FOUND,
       "model: \"no-such-model\" is not served here"},
      {"model in the wrong case", [](auto& r) { r.set_model("TINY-LLAMA"); }, grpc::NOT_FOUND,
       "model"},
      invalid(
          "model not UTF-8", [](auto& r) { r.set_model("tiny\xC3"); },
          "model: not valid UTF-8 at byte 4"),
      // request_id.
      invalid(
          "request_id of 200 characters", [](auto& r) { r.set_request_id(std::string(200, 'x')); },
          "request_id"),
      invalid(
          "request_id of 129 characters", [](auto& r) { r.set_request_id(std::string(129, 'x')); },
          "request_id: longer than 128"),
      invalid(
          "request_id with a tab", [](auto& r) { r.set_request_id("tab\tin id"); },
          "request_id: must be printable ASCII"),
      invalid(
          "request_id not ASCII", [](auto& r) { r.set_request_id("caf\xC3\xA9"); },
          "request_id: must be printable ASCII"),
      invalid(
          "request_id not UTF-8", [](auto& r) { r.set_request_id("id\xC0"); },
          "request_id: not valid UTF-8 at byte 2"),
      // Beam search: its own fields, then what it excludes (sampling, stop strings, ignore_eos,
      // logprobs), then what the tiny model cannot hold or do.
      invalid(
          "beam.num_beams 65", [](auto& r) { r.mutable_beam()->set_num_beams(65); },
          "beam.num_beams: must be in [0, 64], got 65"),
      invalid(
          "beam.num_beams -1", [](auto& r) { r.mutable_beam()->set_num_beams(-1); },
          "beam.num_beams: must be in [0, 64], got -1"),
      invalid(
          "beam.length_penalty NaN",
          [](auto& r) {
            Beam(r);
            r.mutable_beam()->set_length_penalty(kNan);
          },
          "beam.length_penalty: must be finite"),
      invalid(
          "beam.length_penalty -Inf", [](auto& r) { r.mutable_beam()->set_length_penalty(-kInf); },
          "beam.length_penalty: must be finite"),
      invalid(
          "beam.early_stopping 7",
          [](auto& r) {
            Beam(r);
            r.mutable_beam()->set_early_stopping(static_cast<ember::v1::EarlyStopping>(7));
          },
          "beam.early_stopping: unknown value 7"),
      invalid(
          "beam.no_repeat_ngram_size -1",
          [](auto& r) {
            Beam(r);
            r.mutable_beam()->set_no_repeat_ngram_size(-1);
          },
          "beam.no_repeat_ngram_size: must be >= 0, got -1"),
      invalid(
          "beam.num_return_sequences 5 of 4 beams",
          [](auto& r) {
            Beam(r);
            r.mutable_beam()->set_num_return_sequences(5);
          },
          "beam.num_return_sequences: must be in [0, beam.num_beams = 4], got 5"),
      invalid(
          "beam.num_return_sequences 2 without beam search",
          [](auto& r) { r.mutable_beam()->set_num_return_sequences(2); },
          "beam.num_return_sequences: must be in [0, beam.num_beams = 1], got 2"),
      invalid(
          "beam.no_repeat_ngram_size without beam search",
          [](auto& r) { r.mutable_beam()->set_no_repeat_ngram_size(2); },
          "beam.no_repeat_ngram_size: needs beam search"),
      invalid(
          "beam.no_repeat_ngram_size on a decoder-only model",
          [](auto& r) {
            Beam(r);
            r.mutable_beam()->set_no_repeat_ngram_size(2);
          },
          "beam.no_repeat_ngram_size: available for encoder-decoder (translation) models only"),
      invalid(
          "beam with temperature 0.7",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_temperature(0.7f);
          },
          "sampling.temperature: not supported with beam search (beam.num_beams = 4), which does "
          "not sample; leave it unset or 0, got 0.7"),
      invalid(
          "beam with temperature 1 (the default when unset is 0 for a search)",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_temperature(1);
          },
          "sampling.temperature: not supported with beam search"),
      invalid(
          "beam with top_k",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_top_k(5);
          },
          "sampling.top_k: not supported with beam search (beam.num_beams = 4)"),
      invalid(
          "beam with top_p",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_top_p(0.9f);
          },
          "sampling.top_p: not supported with beam search"),
      invalid(
          "beam with min_p",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_min_p(0.1f);
          },
          "sampling.min_p: not supported with beam search"),
      invalid(
          "beam with repetition_penalty",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_repetition_penalty(1.2f);
          },
          "sampling.repetition_penalty: not supported with beam search"),
      invalid(
          "beam with presence_penalty",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_presence_penalty(0.5f);
          },
          "sampling.presence_penalty: not supported with beam search"),
      invalid(
          "beam with frequency_penalty",
          [](auto& r) {
            Beam(r);
            r.mutable_sampling()->set_frequency_penalty(-0.5f);
          },
          "sampling.frequency_penalty: not supported with beam search"),
      invalid(
          "beam with a stop string",
          [](auto& r) {
            Beam(r);
            r.add_stop(".");
          },
          "stop: not supported with beam search (beam.num_beams = 4)"),
      invalid(
          "beam with ignore_eos",
          [](auto& r) {
            Beam(r);
            r.set_ignore_eos(true);
          },
          "ignore_eos: not supported with beam search"),
      invalid(
          "beam with logprobs",
          [](auto& r) {
            Beam(r);
            r.set_logprobs(true);
          },
          "logprobs: not supported with beam search"),
      invalid(
          "beam with top_logprobs",
          [](auto& r) {
            Beam(r);
            r.set_top_logprobs(2);
          },
          "top_logprobs: not supported with beam search"),
      invalid(
          "64 beams of the whole context: more KV-cache blocks than the cache has",
          [](auto& r) {
            Beam(r);
            r.mutable_beam()->set_num_beams(64);
            r.set_max_new_tokens(4096);
          },
          "beam.num_beams: 64 beams"),
  };
}

}  // namespace ember::testing
