// The bench runner against the fake server: counts, samples per token, errors by code, and the
// report formats.
#include "client/cli/bench_runner.h"

#include <memory>

#include "client/cli/bench_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_generation_server.h"

namespace ember::client {
namespace {

using ::ember::testing::FakeServer;
using ::testing::HasSubstr;

class BenchRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmberClient>> client =
        EmberClient::Create(server_.target(), ClientOptions{});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  FakeServer server_;
  std::unique_ptr<EmberClient> client_;
};

TEST_F(BenchRunnerTest, CountsRequestsTokensAndLatencySamples) {
  BenchOptions options;
  options.concurrency = 3;
  options.requests = 10;
  options.request.set_prompt("bench");
  options.request.set_max_new_tokens(5);
  const absl::StatusOr<BenchResult> result = RunBench(*client_, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests_ok, 10);
  EXPECT_EQ(result->requests_failed, 0);
  EXPECT_EQ(result->generated_tokens, 50);
  EXPECT_EQ(result->ttft_seconds.size(), 10u);  // one per request
  EXPECT_EQ(result->itl_seconds.size(), 40u);   // one per token after each request's first
  EXPECT_GT(result->wall_time, absl::ZeroDuration());
  EXPECT_EQ(server_.service().calls(), 10);
  for (double ttft : result->ttft_seconds) EXPECT_GE(ttft, 0);

  const std::string json = FormatBenchJson(options, *result);
  EXPECT_THAT(json, HasSubstr("\"requests\":10,\"concurrency\":3,\"requests_ok\":10"));
  EXPECT_THAT(json, HasSubstr("\"generated_tokens\":50"));
  EXPECT_THAT(json, HasSubstr("\"ttft_seconds\":{\"count\":10,"));
  EXPECT_THAT(json, HasSubstr("\"itl_seconds\":{\"count\":40,"));
  EXPECT_THAT(json, HasSubstr("\"errors\":{}}"));
  const std::string text = FormatBenchText(options, *result);
  EXPECT_THAT(text, HasSubstr("10 ok, 0 failed"));
  EXPECT_THAT(text, HasSubstr("time to first token  p50 "));
}

TEST_F(BenchRunnerTest, FailedRequestsAreCountedByCode) {
  BenchOptions options;
  options.concurrency = 2;
  options.requests = 4;
  options.request.set_prompt("error:RESOURCE_EXHAUSTED:queue \"full\"");
  const absl::StatusOr<BenchResult> result = RunBench(*client_, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests_ok, 0);
  EXPECT_EQ(result->requests_failed, 4);
  EXPECT_EQ(result->errors.at(absl::StatusCode::kResourceExhausted), 4);
  EXPECT_EQ(result->first_error.at(absl::StatusCode::kResourceExhausted), "queue \"full\"");
  const std::string json = FormatBenchJson(options, *result);
  EXPECT_THAT(json, HasSubstr("\"errors\":{\"RESOURCE_EXHAUSTED\":{\"count\":4,\"first_message\":"
                              "\"queue \\\"full\\\"\"}}"));
  EXPECT_THAT(json, HasSubstr("\"ttft_seconds\":{\"count\":0,\"mean\":null"));
}

TEST_F(BenchRunnerTest, RejectsInvalidOptions) {
  BenchOptions options;
  options.requests = 0;
  EXPECT_EQ(RunBench(*client_, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.requests = 1;
  options.concurrency = 0;
  EXPECT_EQ(RunBench(*client_, options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

}  // namespace
}  // namespace ember::client
