// EmberClient::GenerateStream against the fake server: pieces in order, the final message,
// cancellation from the callback and from another thread, errors mid-stream, deadlines.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "client/ember_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_generation_server.h"

namespace ember::client {
namespace {

using ::ember::testing::FakeServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class GenerateStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmberClient>> client =
        EmberClient::Create(server_.target(), ClientOptions{});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  static ember::v1::GenerateRequest Request(const std::string& prompt, int max_new_tokens = 0) {
    ember::v1::GenerateRequest request;
    request.set_prompt(prompt);
    request.set_max_new_tokens(max_new_tokens);
    return request;
  }

  FakeServer server_;
  std::unique_ptr<EmberClient> client_;
};

TEST_F(GenerateStreamTest, PiecesArriveInOrderAndTheLastMessageIsReturned) {
  std::vector<std::string> texts;
  std::vector<int> tokens;
  int messages = 0;
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client_->GenerateStream(
      Request("hi", 4), [&](const ember::v1::GenerateStreamResponse& message) {
        ++messages;
        if (!message.text().empty()) texts.push_back(message.text());
        tokens.insert(tokens.end(), message.token_ids().begin(), message.token_ids().end());
        return true;
      });
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_THAT(texts, ElementsAre("piece0 ", "piece1 ", "piece2 ", "piece3 "));
  EXPECT_THAT(tokens, ElementsAre(100, 101, 102, 103));
  EXPECT_EQ(messages, 5);  // four pieces and the final message, which the callback also sees
  EXPECT_EQ(last->finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(last->usage().generated_tokens(), 4);
  EXPECT_DOUBLE_EQ(last->timings().time_to_first_token_seconds(), 0.010);
}

TEST_F(GenerateStreamTest, CallbackReturningFalseCancelsTheCall) {
  int messages = 0;
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client_->GenerateStream(
      Request("endless"), [&](const ember::v1::GenerateStreamResponse&) { return ++messages < 3; });
  EXPECT_EQ(last.status().code(), absl::StatusCode::kCancelled) << last.status();
  EXPECT_THAT(last.status().message(), HasSubstr("callback"));
  EXPECT_EQ(messages, 3);  // no message is delivered after the callback said stop
  EXPECT_TRUE(
      server_.service().cancellation_seen().WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_F(GenerateStreamTest, CancelFromAnotherThreadMidStream) {
  CallOptions call;
  call.handle = std::make_shared<CallHandle>();
  absl::Notification got_pieces;
  int messages = 0;
  std::thread canceller([&] {
    got_pieces.WaitForNotification();
    call.handle->Cancel();
  });
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client_->GenerateStream(
      Request("endless"),
      [&](const ember::v1::GenerateStreamResponse&) {
        if (++messages == 2) got_pieces.Notify();
        return true;
      },
      call);
  canceller.join();
  EXPECT_EQ(last.status().code(), absl::StatusCode::kCancelled) << last.status();
  EXPECT_THAT(last.status().message(), HasSubstr("CallHandle::Cancel"));
  EXPECT_GE(messages, 2);
  EXPECT_TRUE(
      server_.service().cancellation_seen().WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_F(GenerateStreamTest, ErrorAfterSomePiecesKeepsTheServerStatus) {
  int messages = 0;
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last =
      client_->GenerateStream(Request("fail-midway"), [&](const auto&) {
        ++messages;
        return true;
      });
  EXPECT_EQ(last.status(), absl::InternalError("boom"));
  EXPECT_EQ(messages, 2);
}

TEST_F(GenerateStreamTest, ErrorBeforeAnyPiece) {
  int messages = 0;
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client_->GenerateStream(
      Request("error:RESOURCE_EXHAUSTED:waiting queue is full (64 requests)"), [&](const auto&) {
        ++messages;
        return true;
      });
  EXPECT_EQ(last.status(), absl::ResourceExhaustedError("waiting queue is full (64 requests)"));
  EXPECT_EQ(messages, 0);
}

TEST_F(GenerateStreamTest, StreamWithoutFinishReasonIsAnError) {
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last =
      client_->GenerateStream(Request("no-finish"), [](const auto&) { return true; });
  EXPECT_EQ(last.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(last.status().message(), HasSubstr("finish_reason"));
}

TEST_F(GenerateStreamTest, DeadlineEndsAnEndlessStream) {
  CallOptions call;
  call.deadline = absl::Milliseconds(100);
  int messages = 0;
  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client_->GenerateStream(
      Request("endless"),
      [&](const auto&) {
        ++messages;
        return true;
      },
      call);
  EXPECT_EQ(last.status().code(), absl::StatusCode::kDeadlineExceeded) << last.status();
  EXPECT_GT(messages, 0);
}

}  // namespace
}  // namespace ember::client
