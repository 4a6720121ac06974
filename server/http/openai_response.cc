#include "server/http/openai_response.h"

#include <atomic>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace ember::http {

namespace {

nlohmann::json FinishJson(FinishReason reason) {
  if (reason == FinishReason::kNone) return nullptr;
  return OpenAiFinishReason(reason);
}

nlohmann::json Envelope(const ResponseIdentity& who, absl::string_view object) {
  return nlohmann::json{
      {"id", who.id}, {"object", object}, {"created", who.created}, {"model", who.model}};
}

nlohmann::json Bytes(const std::string& s) {
  nlohmann::json bytes = nlohmann::json::array();
  for (unsigned char c : s) bytes.push_back(static_cast<int>(c));
  return bytes;
}

}  // namespace

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ResponseIdentity NewIdentity(Api api, std::string model) {
  // A random process prefix and a counter: unique without a lock or a syscall per request.
  static const uint64_t prefix = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) | device();
  }();
  static std::atomic<uint64_t> counter{0};
  ResponseIdentity who;
  who.api = api;
  who.id = absl::StrFormat("%s-%016x%08x", api == Api::kChat ? "chatcmpl" : "cmpl", prefix,
                           counter.fetch_add(1, std::memory_order_relaxed));
  who.created = absl::ToUnixSeconds(absl::Now());
  who.model = std::move(model);
  return who;
}

const char* OpenAiFinishReason(FinishReason reason) {
  switch (reason) {
    case FinishReason::kEos:
    case FinishReason::kStopSequence:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kCancelled:
      return "abort";
    case FinishReason::kDeadline:
      return "timeout";
    case FinishReason::kRejected:
      return "rejected";
    case FinishReason::kError:
    case FinishReason::kNone:
      break;
  }
  return "error";
}

nlohmann::json UsageJson(const RequestTimings& timings) {
  return nlohmann::json{
      {"prompt_tokens", timings.prompt_tokens},
      {"completion_tokens", timings.generated_tokens},
      {"total_tokens", timings.prompt_tokens + timings.generated_tokens},
      // OpenAI's field for prompt tokens served from a cache.
      {"prompt_tokens_details", {{"cached_tokens", timings.cached_prompt_tokens}}}};
}

std::string LogprobsBuilder::TokenText(int32_t id) const {
  auto text = tokenizer_.Decode({&id, 1}, /*skip_special_tokens=*/false);
  return text.ok() ? *text : std::string();
}

void LogprobsBuilder::AddEntry(int32_t token, const float* logprob,
                               const std::vector<TokenLogprob>& top) {
  ++count_;
  const std::string text = TokenText(token);
  if (api_ == Api::kChat) {
    nlohmann::json alternatives = nlohmann::json::array();
    for (const TokenLogprob& alt : top) {
      const std::string alt_text = TokenText(alt.token);
      alternatives.push_back(
          {{"token", alt_text}, {"logprob", alt.logprob}, {"bytes", Bytes(alt_text)}});
    }
    content_.push_back(
        {{"token", text},
         {"logprob", logprob == nullptr ? nlohmann::json() : nlohmann::json(*logprob)},
         {"bytes", Bytes(text)},
         {"top_logprobs", std::move(alternatives)}});
    return;
  }
  tokens_.push_back(text);
  token_logprobs_.push_back(logprob == nullptr ? nlohmann::json() : nlohmann::json(*logprob));
  if (logprob == nullptr) {
    top_logprobs_.push_back(nullptr);
  } else {
    // OpenAI's legacy shape: token text -> logprob (two ids decoding alike share a key).
    nlohmann::json alternatives = nlohmann::json::object();
    for (const TokenLogprob& alt : top) {
      const std::string alt_text = TokenText(alt.token);
      if (!alternatives.contains(alt_text)) alternatives[alt_text] = alt.logprob;
    }
    top_logprobs_.push_back(std::move(alternatives));
  }
  text_offsets_.push_back(text_offset_);
  text_offset_ += static_cast<int64_t>(text.size());
}

void LogprobsBuilder::AddPrompt(const std::vector<int32_t>& prompt,
                                const std::vector<SampledToken>& scored) {
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (i == 0 || i - 1 >= scored.size()) {
      AddEntry(prompt[i], nullptr, {});
    } else {
      AddEntry(prompt[i], &scored[i - 1].logprob, scored[i - 1].top);
    }
  }
}

void LogprobsBuilder::Add(const SampledToken& sampled) {
  AddEntry(sampled.token, &sampled.logprob, sampled.top);
}

nlohmann::json LogprobsBuilder::Take() {
  nlohmann::json out;
  if (api_ == Api::kChat) {
    out = {{"content", std::move(content_)}};
    content_ = nlohmann::json::array();
  } else {
    out = {{"tokens", std::move(tokens_)},
           {"token_logprobs", std::move(token_logprobs_)},
           {"top_logprobs", std::move(top_logprobs_)},
           {"text_offset", std::move(text_offsets_)}};
    tokens_ = token_logprobs_ = top_logprobs_ = text_offsets_ = nlohmann::json::array();
  }
  count_ = 0;
  return out;
}

std::string CompletionBody(const ResponseIdentity& who, const std::string& text,
                           nlohmann::json logprobs, FinishReason reason,
                           const RequestTimings& timings) {
  nlohmann::json body = Envelope(who, "text_completion");
  body["choices"] = nlohmann::json::array({{{"index", 0},
                                            {"text", text},
                                            {"logprobs", std::move(logprobs)},
                                            {"finish_reason", FinishJson(reason)}}});
  body["usage"] = UsageJson(timings);
  return Dump(body);
}

std::string ChatBody(const ResponseIdentity& who, const std::string& text, nlohmann::json logprobs,
                     FinishReason reason, const RequestTimings& timings) {
  nlohmann::json body = Envelope(who, "chat.completion");
  body["choices"] = nlohmann::json::array({{{"index", 0},
                                            {"message", {{"role", "assistant"}, {"content", text}}},
                                            {"logprobs", std::move(logprobs)},
                                            {"finish_reason", FinishJson(reason)}}});
  body["usage"] = UsageJson(timings);
  return Dump(body);
}

std::string CompletionChunk(const ResponseIdentity& who, absl::string_view text,
                            nlohmann::json logprobs, FinishReason finish) {
  nlohmann::json body = Envelope(who, "text_completion");
  body["choices"] = nlohmann::json::array({{{"index", 0},
                                            {"text", text},
                                            {"logprobs", std::move(logprobs)},
                                            {"finish_reason", FinishJson(finish)}}});
  return absl::StrCat("data: ", Dump(body), "\n\n");
}

std::string ChatChunk(const ResponseIdentity& who, bool with_role, absl::string_view text,
                      nlohmann::json logprobs, FinishReason finish) {
  nlohmann::json delta = nlohmann::json::object();
  if (with_role) delta["role"] = "assistant";
  if (with_role || !text.empty()) delta["content"] = text;
  nlohmann::json body = Envelope(who, "chat.completion.chunk");
  body["choices"] = nlohmann::json::array({{{"index", 0},
                                            {"delta", std::move(delta)},
                                            {"logprobs", std::move(logprobs)},
                                            {"finish_reason", FinishJson(finish)}}});
  return absl::StrCat("data: ", Dump(body), "\n\n");
}

std::string UsageChunk(const ResponseIdentity& who, const RequestTimings& timings) {
  nlohmann::json body =
      Envelope(who, who.api == Api::kChat ? "chat.completion.chunk" : "text_completion");
  body["choices"] = nlohmann::json::array();
  body["usage"] = UsageJson(timings);
  return absl::StrCat("data: ", Dump(body), "\n\n");
}

std::string ErrorEvent(const absl::Status& status) {
  return absl::StrCat("data: ", ErrorBody(status), "\n\n");
}

}  // namespace ember::http
