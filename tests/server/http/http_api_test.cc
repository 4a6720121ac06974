// ember's OpenAI-compatible HTTP API against the real server in-process: response shapes, the
// same greedy text as gRPC, streams, errors naming the parameter, auth, cancellation on
// disconnect, the drain and the metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/http/http_test_client.h"
#include "tests/server/server_test_fixture.h"

namespace ember::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ServerOptions HttpOptions() {
  ServerOptions options = TestServerOptions();
  options.http_address = "127.0.0.1:0";
  return options;
}

// The tiny model with a ChatML chat template in its tokenizer_config.json (a copy of its dir).
const std::string& TinyChatModelDir() {
  static const std::string* dir = [] {
    auto* path = new std::string(
        (std::filesystem::temp_directory_path() / absl::StrCat("ember-http-chat-", getpid()))
            .string());
    std::filesystem::remove_all(*path);
    std::filesystem::copy(TinyLlamaDir(), *path, std::filesystem::copy_options::recursive);
    nlohmann::json config = {
        {"bos_token", "<s>"},
        {"eos_token", "</s>"},
        {"chat_template",
         "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
         "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
         "{{ '<|im_start|>assistant\\n' }}{% endif %}"}};
    std::ofstream(*path + "/tokenizer_config.json") << config.dump(2);
    return path;
  }();
  return *dir;
}

// Sends `bytes` on a fresh connection, half-closes, and returns everything the server answers
// (until it closes or 5 s pass).
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string answer;
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

nlohmann::json GreedyCompletion(const std::string& prompt, int max_tokens) {
  return {
      {"model", "tiny-llama"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
}

class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new ServerHarness(HttpOptions()); }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }
  HttpTestClient Client() { return HttpTestClient(harness_->server().http_port()); }
  static ServerHarness* harness_;
};
ServerHarness* HttpApiTest::harness_ = nullptr;

TEST_F(HttpApiTest, ModelsAndHealth) {
  HttpReply models = Client().Get("/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  EXPECT_EQ(models.json["object"], "list");
  ASSERT_EQ(models.json["data"].size(), 1u);
  EXPECT_EQ(models.json["data"][0]["id"], "tiny-llama");
  EXPECT_EQ(models.json["data"][0]["object"], "model");
  EXPECT_GT(models.json["data"][0]["max_model_len"].get<int64_t>(), 0);
  HttpReply health = Client().Get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
}

// The same greedy request through gRPC and HTTP returns the same text and token counts.
TEST_F(HttpApiTest, GreedyCompletionMatchesGrpc) {
  for (const std::string prompt : {"Hello there", "The quick brown fox", "a"}) {
    ember::v1::GenerateRequest request;
    request.set_prompt(prompt);
    request.set_max_new_tokens(16);
    request.mutable_sampling()->set_temperature(0);
    ember::v1::GenerateResponse grpc_response;
    grpc::ClientContext context;
    ASSERT_TRUE(harness_->stub().Generate(&context, request, &grpc_response).ok());

    HttpReply reply = Client().PostJson("/v1/completions", GreedyCompletion(prompt, 16));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.content_type, "application/json");
    const nlohmann::json& body = reply.json;
    EXPECT_EQ(body["object"], "text_completion");
    EXPECT_THAT(body["id"].get<std::string>(), StartsWith("cmpl-"));
    EXPECT_EQ(body["model"], "tiny-llama");
    EXPECT_GT(body["created"].get<int64_t>(), 1700000000);
    ASSERT_EQ(body["choices"].size(), 1u);
    EXPECT_EQ(body["choices"][0]["index"], 0);
    EXPECT_EQ(body["choices"][0]["text"], grpc_response.text()) << prompt;
    EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
    const std::string finish = body["choices"][0]["finish_reason"];
    EXPECT_TRUE(finish == "stop" || finish == "length") << finish;
    EXPECT_EQ(body["usage"]["prompt_tokens"], grpc_response.usage().prompt_tokens());
    EXPECT_EQ(body["usage"]["completion_tokens"], grpc_response.usage().generated_tokens());
    EXPECT_EQ(body["usage"]["total_tokens"],
              grpc_response.usage().prompt_tokens() + grpc_response.usage().generated_tokens());
  }
}

TEST_F(HttpApiTest, TokenIdPromptEchoAndLogprobs) {
  nlohmann::json request = {{"prompt", {1, 5, 9, 13}}, {"max_tokens", 4}, {"temperature", 0},
                            {"logprobs", 2},           {"echo", true},    {"ignore_eos", true}};
  HttpReply reply = Client().PostJson("/v1/completions", request);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json& choice = reply.json["choices"][0];
  const nlohmann::json& lp = choice["logprobs"];
  // Four prompt tokens (the first without a log-probability) and four generated ones.
  ASSERT_EQ(lp["tokens"].size(), 8u) << lp.dump();
  ASSERT_EQ(lp["token_logprobs"].size(), 8u);
  ASSERT_EQ(lp["top_logprobs"].size(), 8u);
  ASSERT_EQ(lp["text_offset"].size(), 8u);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  for (size_t i = 1; i < 8; ++i) {
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
    EXPECT_LE(lp["top_logprobs"][i].size(), 2u);
    EXPECT_GE(lp["top_logprobs"][i].size(), 1u);
  }
  // The echoed text is the prompt's decoded text, then the completion.
  HttpReply detok =
      Client().PostJson("/detokenize", {{"tokens", {1, 5, 9, 13}}, {"skip_special_tokens", true}});
  ASSERT_EQ(detok.status, 200) << detok.body;
  EXPECT_THAT(choice["text"].get<std::string>(),
              StartsWith(detok.json["prompt"].get<std::string>()));
  EXPECT_EQ(reply.json["usage"]["completion_tokens"], 4);
}

// A stream's text deltas add up to the unary answer; the last data is [DONE]; the usage chunk
// comes when asked for.
TEST_F(HttpApiTest, StreamedCompletionAddsUpToTheUnaryOne) {
  const nlohmann::json unary_request = GreedyCompletion("Once upon a time", 20);
  HttpReply unary = Client().PostJson("/v1/completions", unary_request);
  ASSERT_EQ(unary.status, 200) << unary.body;

  nlohmann::json request = unary_request;
  request["stream"] = true;
  request["stream_options"] = {{"include_usage", true}};
  HttpTestClient::Stream stream = Client().PostStream("/v1/completions", request);
  ASSERT_EQ(stream.status, 200) << stream.raw;
  ASSERT_GE(stream.events.size(), 3u) << stream.raw;
  EXPECT_EQ(stream.events.back(), "[DONE]");
  std::string text;
  std::string finish;
  for (size_t i = 0; i + 2 < stream.events.size(); ++i) {
    nlohmann::json chunk = nlohmann::json::parse(stream.events[i]);
    EXPECT_EQ(chunk["object"], "text_completion");
    EXPECT_EQ(chunk["id"], nlohmann::json::parse(stream.events[0])["id"]);
    text += chunk["choices"][0]["text"].get<std::string>();
    if (!chunk["choices"][0]["finish_reason"].is_null())
      finish = chunk["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, unary.json["choices"][0]["text"]);
  EXPECT_EQ(finish, unary.json["choices"][0]["finish_reason"]);
  nlohmann::json usage = nlohmann::json::parse(stream.events[stream.events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"], unary.json["usage"]);
}

TEST_F(HttpApiTest, StopStringsAndSeedsBehaveAsInTheEngine) {
  nlohmann::json request = {{"prompt", "Hello"}, {"max_tokens", 12}, {"temperature", 0.9},
                            {"seed", 1234},      {"top_p", 0.95},    {"top_k", 40}};
  HttpReply a = Client().PostJson("/v1/completions", request);
  HttpReply b = Client().PostJson("/v1/completions", request);
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.json["choices"][0]["text"], b.json["choices"][0]["text"]);
  const std::string text = a.json["choices"][0]["text"];
  if (text.size() >= 2) {
    nlohmann::json stop = request;
    stop["stop"] = text.substr(1, 1);
    HttpReply c = Client().PostJson("/v1/completions", stop);
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(c.json["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(c.json["choices"][0]["text"], text.substr(0, text.find(text.substr(1, 1))));
  }
}

// Every refusal is OpenAI's error body, with the parameter named as the client sent it.
TEST_F(HttpApiTest, BadRequestsNameTheParameter) {
  struct Case {
    std::string body;
    int status;
    std::string param;  // "" for null
    std::string message_part;
  };
  const Case cases[] = {
      {"{", 400, "", "request body: not valid JSON"},
      {"[1,2]", 400, "", "request body: expected a JSON object"},
      {R"({"prompt": "x", "temperature": "hot"})", 400, "temperature", "expected a number"},
      {R"({"prompt": "x", "temperature": 500})", 400, "temperature", "temperature: must be in"},
      {R"({"prompt": "x", "top_p": 0})", 400, "top_p", "top_p:"},
      {R"({"prompt": "x", "max_tokens": 0})", 400, "max_tokens", "max_tokens: must be in [1,"},
      {R"({"prompt": "x", "max_tokens": 100000000})", 400, "max_tokens", "max_tokens:"},
      {R"({"prompt": "x", "n": 2})", 400, "n", "one choice per request"},
      {R"({"prompt": "x", "logprobs": 50})", 400, "logprobs", "logprobs:"},
      {R"({"prompt": "x", "presence_penalty": 3})", 400, "presence_penalty", "presence_penalty:"},
      {R"({"prompt": "x", "stop": [1]})", 400, "stop", "stop[0]: expected a string"},
      {R"({"prompt": "x", "stream_options": {"include_usage": true}})", 400, "stream_options",
       "only allowed with stream"},
      {R"({"prompt": [1, -2]})", 400, "prompt", "prompt[1]"},
      {R"({"prompt": [1, 99999999]})", 400, "prompt", "prompt"},
      {R"({"prompt": ["a", "b"]})", 400, "prompt", "batch of 2 prompts"},
      {R"({"prompt": ""})", 400, "prompt", "prompt: must not be empty"},
      {R"({"max_tokens": 3})", 400, "prompt", "prompt: required"},
      {R"({"prompt": "x", "seed": 1.5})", 400, "seed", "expected an integer"},
      {R"({"prompt": "x", "model": "gpt-4"})", 404, "", "\"gpt-4\" does not exist"},
      {R"({"prompt": "x", "temperature": 1e400})", 400, "", "number overflow"},
      {"{\"prompt\": \"\xff\xfe\"}", 400, "", "request body: not valid JSON"},
  };
  for (const Case& c : cases) {
    HttpReply reply = Client().Post("/v1/completions", c.body);
    EXPECT_EQ(reply.status, c.status) << c.body << " -> " << reply.body;
    ASSERT_TRUE(reply.json.is_object()) << c.body << " -> " << reply.body;
    const nlohmann::json& error = reply.json["error"];
    EXPECT_THAT(error["message"].get<std::string>(), HasSubstr(c.message_part)) << c.body;
    if (c.param.empty()) {
      EXPECT_TRUE(error["param"].is_null()) << c.body << " -> " << reply.body;
    } else {
      EXPECT_EQ(error["param"], c.param) << c.body << " -> " << reply.body;
    }
    EXPECT_EQ(error["code"], std::to_string(c.status));
    EXPECT_TRUE(error["type"].is_string());
  }
  // Unknown fields are ignored, as OpenAI's clients send fields a server may not know.
  HttpReply ok = Client().Post("/v1/completions",
                               R"({"prompt": "x", "max_tokens": 2, "user": "u", "future": [1]})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The server keeps serving after all of that.
  EXPECT_EQ(Client().PostJson("/v1/completions", GreedyCompletion("x", 2)).status, 200);
}

TEST_F(HttpApiTest, TransportLevelRefusals) {
  HttpReply missing = Client().Get("/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.json["error"]["message"].get<std::string>(), HasSubstr("no such endpoint"));
  // Larger than --max_receive_message_bytes (4 MiB by default).
  HttpReply huge = Client().Post("/v1/completions", std::string(5 << 20, ' '));
  EXPECT_EQ(huge.status, 413) << huge.body.substr(0, 200);
  HttpReply chat = Client().PostJson("/v1/chat/completions",
                                     {{"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(chat.status, 400) << chat.body;
  EXPECT_EQ(chat.json["error"]["param"], "messages");
  EXPECT_THAT(chat.json["error"]["message"].get<std::string>(), HasSubstr("no chat template"));
}

// Malformed HTTP itself (not the JSON in it) gets a 4xx or a closed connection, never a crash or a
// hung handler, and the server keeps serving.
TEST_F(HttpApiTest, HeaderAbuseIsRefused) {
  const int port = harness_->server().http_port();
  const std::string body = GreedyCompletion("x", 2).dump();
  const std::string cases[] = {
      "GARBAGE\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n" + body,
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n" + body,
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      [] {
        std::string many = "POST /v1/completions HTTP/1.1\r\nHost: x\r\n";
        for (int i = 0; i < 5000; ++i) many += absl::StrCat("X-H", i, ": v\r\n");
        return many + "\r\n";
      }(),
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
  };
  for (const std::string& request : cases) {
    const std::string answer = RawExchange(port, request);
    if (!answer.empty()) {
      EXPECT_THAT(answer, StartsWith("HTTP/1.1 4")) << request.substr(0, 80);
    }
  }
  EXPECT_EQ(Client().PostJson("/v1/completions", GreedyCompletion("x", 2)).status, 200);
}

TEST_F(HttpApiTest, TokenizeAndDetokenize) {
  HttpReply tok = Client().PostJson("/tokenize", {{"prompt", "Hello world"}});
  ASSERT_EQ(tok.status, 200) << tok.body;
  EXPECT_EQ(tok.json["count"], tok.json["tokens"].size());
  EXPECT_GT(tok.json["max_model_len"].get<int64_t>(), 0);
  HttpReply detok = Client().PostJson(
      "/detokenize", {{"tokens", tok.json["tokens"]}, {"skip_special_tokens", true}});
  ASSERT_EQ(detok.status, 200) << detok.body;
  EXPECT_EQ(detok.json["prompt"], "Hello world");
  HttpReply bad = Client().PostJson("/detokenize", {{"tokens", {1, "x"}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json["error"]["param"], "tokens");
}

// A client that hangs up mid-stream has its request cancelled: the engine goes idle long before
// the request's 2000 tokens would have been generated.
TEST_F(HttpApiTest, DisconnectCancelsTheRequest) {
  harness_->server().engine().SetStepDelayForTesting(absl::Milliseconds(5));
  nlohmann::json request = {
      {"prompt", "Hello"}, {"max_tokens", 2000}, {"ignore_eos", true}, {"stream", true}};
  int events = 0;
  HttpTestClient::Stream stream = Client().PostStream(
      "/v1/completions", request, [&](const std::string&) { return ++events < 3; });
  EXPECT_EQ(events, 3);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (harness_->server().engine().Snapshot().busy && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_FALSE(harness_->server().engine().Snapshot().busy);
  harness_->server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  EXPECT_GE(
      harness_->WaitForMetric(
          "ember_rpcs_total{code=\"CANCELLED\",method=\"/v1/completions\",protocol=\"http\"}", 1),
      1);
}

TEST_F(HttpApiTest, MetricsCountHttpCallsByProtocol) {
  ASSERT_EQ(Client().PostJson("/v1/completions", GreedyCompletion("x", 2)).status, 200);
  EXPECT_GE(harness_->WaitForMetric(
                "ember_rpcs_total{code=\"OK\",method=\"/v1/completions\",protocol=\"http\"}", 1),
            1);
  ASSERT_EQ(Client().Post("/v1/completions", "{").status, 400);
  EXPECT_GE(harness_->WaitForMetric("ember_rpcs_total{code=\"INVALID_ARGUMENT\",method=\"/v1/"
                                    "completions\",protocol=\"http\"}",
                                    1),
            1);
}

TEST(HttpChatTest, ChatUsesTheModelsTemplate) {
  ServerOptions options = HttpOptions();
  options.engine.model_dir = TinyChatModelDir();
  ServerHarness h(options);
  HttpTestClient client(h.server().http_port());
  const nlohmann::json messages = {{{"role", "system"}, {"content", "Be brief."}},
                                   {{"role", "user"}, {"content", "Hi!"}}};
  HttpReply tok = client.PostJson("/tokenize", {{"messages", messages}});
  ASSERT_EQ(tok.status, 200) << tok.body;
  EXPECT_EQ(tok.json["prompt"],
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\n");
  // The rendered prompt as a completion and the chat give the same greedy text.
  HttpReply completion = client.PostJson(
      "/v1/completions", {{"prompt", tok.json["tokens"]}, {"max_tokens", 10}, {"temperature", 0}});
  HttpReply chat = client.PostJson("/v1/chat/completions", {{"messages", messages},
                                                            {"max_tokens", 10},
                                                            {"temperature", 0},
                                                            {"logprobs", true},
                                                            {"top_logprobs", 2}});
  ASSERT_EQ(completion.status, 200) << completion.body;
  ASSERT_EQ(chat.status, 200) << chat.body;
  EXPECT_EQ(chat.json["object"], "chat.completion");
  EXPECT_THAT(chat.json["id"].get<std::string>(), StartsWith("chatcmpl-"));
  const nlohmann::json& choice = chat.json["choices"][0];
  EXPECT_EQ(choice["message"]["role"], "assistant");
  EXPECT_EQ(choice["message"]["content"], completion.json["choices"][0]["text"]);
  EXPECT_EQ(chat.json["usage"]["prompt_tokens"], completion.json["usage"]["prompt_tokens"]);
  EXPECT_EQ(chat.json["usage"]["completion_tokens"], completion.json["usage"]["completion_tokens"]);
  // The same prompt again: its full blocks (all but the last token) came from the prefix cache.
  const int64_t prompt_tokens = chat.json["usage"]["prompt_tokens"];
  const int64_t block = h.server().engine().model_info().block_size;
  EXPECT_EQ(chat.json["usage"]["prompt_tokens_details"]["cached_tokens"],
            (prompt_tokens - 1) / block * block);
  const nlohmann::json& content = choice["logprobs"]["content"];
  EXPECT_EQ(content.size(), chat.json["usage"]["completion_tokens"].get<size_t>());
  for (const nlohmann::json& entry : content) {
    EXPECT_TRUE(entry["token"].is_string());
    EXPECT_LE(entry["logprob"].get<double>(), 0.0);
    EXPECT_EQ(entry["top_logprobs"].size(), 2u);
    EXPECT_TRUE(entry["bytes"].is_array());
  }
  // Streamed: a role chunk first, content deltas adding up to the same text, [DONE].
  nlohmann::json stream_request = {
      {"messages", messages}, {"max_tokens", 10}, {"temperature", 0}, {"stream", true}};
  HttpTestClient::Stream stream = client.PostStream("/v1/chat/completions", stream_request);
  ASSERT_EQ(stream.status, 200) << stream.raw;
  ASSERT_GE(stream.events.size(), 2u);
  EXPECT_EQ(stream.events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < stream.events.size(); ++i) {
    nlohmann::json chunk = nlohmann::json::parse(stream.events[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    const nlohmann::json& delta = chunk["choices"][0]["delta"];
    if (i == 0) {
      EXPECT_EQ(delta["role"], "assistant");
    }
    if (delta.contains("content")) text += delta["content"].get<std::string>();
  }
  EXPECT_EQ(text, choice["message"]["content"]);
  // Bad messages name the message.
  HttpReply bad =
      client.PostJson("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", 5}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json["error"]["param"], "messages");
  EXPECT_THAT(bad.json["error"]["message"].get<std::string>(), HasSubstr("messages[0].content"));
}

TEST(HttpAuthTest, BearerTokenGuardsEverythingButHealth) {
  ServerOptions options = HttpOptions();
  options.auth_token = "s3cret";
  ServerHarness h(options);
  const int port = h.server().http_port();
  HttpReply none = HttpTestClient(port).PostJson("/v1/completions", GreedyCompletion("x", 2));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.json["error"]["type"], "authentication_error");
  HttpReply wrong = HttpTestClient(port, "nope").Get("/v1/models");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.json["error"]["message"].get<std::string>(), HasSubstr("invalid bearer token"));
  EXPECT_EQ(HttpTestClient(port).Get("/health").status, 200);
  EXPECT_EQ(
      HttpTestClient(port, "s3cret").PostJson("/v1/completions", GreedyCompletion("x", 2)).status,
      200);
}

// Queue full: 429 with OpenAI's rate-limit error; a timeout: 504.
TEST(HttpAdmissionTest, QueueFullIs429AndTimeoutIs504) {
  ServerOptions options = HttpOptions();
  options.engine.max_running = 1;
  options.engine.max_waiting = 1;
  ServerHarness h(options);
  h.server().engine().SetStepDelayForTesting(absl::Milliseconds(20));
  const int port = h.server().http_port();
  std::vector<std::thread> busy;
  std::atomic<int> rejected{0};
  for (int i = 0; i < 4; ++i) {
    busy.emplace_back([&] {
      HttpReply r = HttpTestClient(port).PostJson(
          "/v1/completions", {{"prompt", "x"}, {"max_tokens", 30}, {"ignore_eos", true}});
      if (r.status == 429) {
        EXPECT_EQ(r.json["error"]["type"], "rate_limit_error");
        ++rejected;
      } else {
        EXPECT_EQ(r.status, 200) << r.body;
      }
    });
  }
  for (std::thread& t : busy) t.join();
  EXPECT_GE(rejected.load(), 1);
  HttpReply late = HttpTestClient(port).PostJson(
      "/v1/completions",
      {{"prompt", "x"}, {"max_tokens", 500}, {"ignore_eos", true}, {"timeout", 0.2}});
  EXPECT_EQ(late.status, 504) << late.body;
  EXPECT_EQ(late.json["error"]["code"], "504");
}

// SIGTERM's drain covers HTTP: a stream running when the drain starts finishes whole, new calls
// get 503 meanwhile.
TEST(HttpDrainTest, RunningStreamsFinishAndNewCallsGet503) {
  ServerOptions options = HttpOptions();
  options.drain_grace = absl::Seconds(20);
  auto h = std::make_unique<ServerHarness>(options);
  h->server().engine().SetStepDelayForTesting(absl::Milliseconds(10));
  const int port = h->server().http_port();
  std::atomic<bool> streaming{false};
  HttpTestClient::Stream stream;
  std::thread reader([&] {
    stream = HttpTestClient(port).PostStream(
        "/v1/completions",
        {{"prompt", "x"}, {"max_tokens", 60}, {"ignore_eos", true}, {"stream", true}},
        [&](const std::string&) {
          streaming = true;
          return true;
        });
  });
  while (!streaming) absl::SleepFor(absl::Milliseconds(2));
  std::thread drain([&] { h->server().Shutdown(); });
  absl::SleepFor(absl::Milliseconds(50));
  HttpReply refused = HttpTestClient(port).PostJson("/v1/completions", GreedyCompletion("x", 2));
  EXPECT_TRUE(refused.status == 503 || refused.status == 0) << refused.status << refused.body;
  reader.join();
  drain.join();
  EXPECT_EQ(stream.status, 200);
  ASSERT_FALSE(stream.events.empty());
  EXPECT_EQ(stream.events.back(), "[DONE]");
  nlohmann::json last = nlohmann::json::parse(stream.events[stream.events.size() - 2]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length") << stream.raw;
}

}  // namespace
}  // namespace ember::testing
