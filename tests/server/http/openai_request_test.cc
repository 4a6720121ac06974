// The HTTP API's body parsing and parameter renaming, without a server.
#include "server/http/openai_request.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/http/http_errors.h"

namespace ember::http {
namespace {

using ::testing::HasSubstr;

TEST(OpenAiRequestTest, CompletionFieldsMapOntoTheEngineRequest) {
  auto r = ParseCompletionRequest(
      R"({"model": "m", "prompt": "hi", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9,
          "top_k": -1, "min_p": 0.05, "repetition_penalty": 1.2, "presence_penalty": 0.1,
          "frequency_penalty": -0.2, "seed": 42, "stop": "\n", "ignore_eos": true,
          "logprobs": 3, "echo": true, "stream": true, "stream_options": {"include_usage": true},
          "timeout": 2.5})");
  ASSERT_TRUE(r.ok()) << r.status();
  const GenerationRequest& g = r->generation;
  EXPECT_EQ(r->model, "m");
  EXPECT_EQ(g.prompt, "hi");
  EXPECT_EQ(g.max_new_tokens, 7);
  EXPECT_FLOAT_EQ(g.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(g.sampling.top_p, 0.9f);
  EXPECT_EQ(g.sampling.top_k, 0);  // -1: off, as vLLM
  EXPECT_FLOAT_EQ(g.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(g.sampling.repetition_penalty, 1.2f);
  EXPECT_FLOAT_EQ(g.sampling.presence_penalty, 0.1f);
  EXPECT_FLOAT_EQ(g.sampling.frequency_penalty, -0.2f);
  EXPECT_EQ(g.sampling.seed, 42u);
  EXPECT_EQ(g.stop, std::vector<std::string>{"\n"});
  EXPECT_TRUE(g.ignore_eos);
  EXPECT_TRUE(g.sampling.logprobs);
  EXPECT_EQ(g.sampling.top_logprobs, 3);
  EXPECT_TRUE(g.prompt_logprobs);  // echo + logprobs scores the prompt
  EXPECT_TRUE(r->echo && r->stream && r->include_usage && r->logprobs);
  EXPECT_EQ(r->timeout, absl::Milliseconds(2500));
}

TEST(OpenAiRequestTest, ChatKeepsTheClientsKeyOrderAndJoinsTextParts) {
  auto r = ParseChatRequest(
      R"({"messages": [{"role": "user", "name": "z", "content": [{"type": "text", "text": "a"},
          {"type": "text", "text": "b"}]}], "chat_template_kwargs": {"zeta": 1, "alpha": 2},
          "logprobs": true, "top_logprobs": 2, "max_completion_tokens": 9})");
  ASSERT_TRUE(r.ok()) << r.status();
  // Python dicts keep insertion order, and templates' tojson prints it.
  EXPECT_EQ(r->messages.dump(), R"([{"role":"user","name":"z","content":"a\nb"}])");
  EXPECT_EQ(r->template_kwargs.dump(), R"({"zeta":1,"alpha":2})");
  EXPECT_EQ(r->common.generation.sampling.top_logprobs, 2);
  EXPECT_EQ(r->common.generation.max_new_tokens, 9);
}

TEST(OpenAiRequestTest, RefusalsNameTheParameter) {
  EXPECT_THAT(ParseChatRequest(R"({"messages": []})").status().message(),
              HasSubstr("messages: must not be empty"));
  EXPECT_THAT(ParseChatRequest(R"({"messages": [{"content": "x"}]})").status().message(),
              HasSubstr("messages[0].role: expected a string"));
  EXPECT_THAT(ParseChatRequest(R"({"messages": [{"role": "user", "content": [{"type":
              "image_url"}]}]})")
                  .status()
                  .message(),
              HasSubstr("messages[0].content[0].type: only \"text\" parts are supported"));
  EXPECT_THAT(ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"}],
              "top_logprobs": 2})")
                  .status()
                  .message(),
              HasSubstr("top_logprobs: needs logprobs = true"));
  EXPECT_THAT(ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"}],
              "tools": [{"type": "function"}]})")
                  .status()
                  .message(),
              HasSubstr("tools: tool calling is not supported"));
  EXPECT_THAT(ParseCompletionRequest(R"({"prompt": "x", "suffix": "y"})").status().message(),
              HasSubstr("suffix:"));
}

TEST(HttpErrorsTest, EngineFieldPathsBecomeOpenAiParameters) {
  auto renamed = [](const std::string& message, Api api) {
    return std::string(ToOpenAiParams(absl::InvalidArgumentError(message), api).message());
  };
  EXPECT_EQ(renamed("sampling.temperature: must be in [0, 100], got 500", Api::kCompletions),
            "temperature: must be in [0, 100], got 500");
  EXPECT_EQ(renamed("max_new_tokens: must be in [0, 4096], got 5000", Api::kChat),
            "max_tokens: must be in [0, 4096], got 5000");
  EXPECT_EQ(renamed("prompt_token_ids[3]: no such token", Api::kCompletions),
            "prompt[3]: no such token");
  EXPECT_EQ(renamed("prompt: 9000 tokens; the context length is 2048", Api::kChat),
            "messages: 9000 tokens; the context length is 2048");
  EXPECT_EQ(renamed("top_logprobs: must be in [0, 20], got 50", Api::kCompletions),
            "logprobs: must be in [0, 20], got 50");
  EXPECT_EQ(renamed("stop[1]: must not be empty", Api::kCompletions), "stop[1]: must not be empty");
  EXPECT_EQ(renamed("no field here", Api::kCompletions), "no field here");
  const std::string body = ErrorBody(absl::InvalidArgumentError("stop[1]: must not be empty"));
  EXPECT_EQ(body, R"({"error":{"code":"400","message":"stop[1]: must not be empty","param":"stop",)"
                  R"("type":"invalid_request_error"}})");
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
}

}  // namespace
}  // namespace ember::http
