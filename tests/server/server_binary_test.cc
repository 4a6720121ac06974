// The ember_server binary itself: flags, start-up on a model directory, and SIGTERM draining an
// in-flight stream before exiting 0.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "tests/server/fault_test_util.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/http_get.h"
#include "tests/test_util/temp_dir.h"

extern char** environ;

namespace ember::testing {
namespace {

struct Process {
  pid_t pid = -1;
  FILE* err = nullptr;  // the child's stderr
};

Process Spawn(const std::vector<std::string>& args) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Process p;
  EXPECT_EQ(posix_spawn(&p.pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  p.err = ::fdopen(fds[0], "r");
  return p;
}

// Reads the child's log until a line contains `marker`; returns that line ("" at EOF).
std::string ReadUntil(FILE* err, const std::string& marker, std::string* log) {
  char line[4096];
  while (std::fgets(line, sizeof(line), err) != nullptr) {
    *log += line;
    if (std::string(line).find(marker) != std::string::npos) return line;
  }
  return "";
}

int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerBinary() { return BinaryDir() + "/server/ember_server"; }

// The gRPC port from the server's "ready: gRPC port N, metrics port M" line, or 0.
int GrpcPortOf(const std::string& ready) {
  int port = 0;
  const size_t at = ready.find("port ") + 5;
  return absl::SimpleAtoi(ready.substr(at, ready.find(',', at) - at), &port) ? port : 0;
}

TEST(ServerBinaryTest, SigtermDrainsAnInFlightStreamAndExitsZero) {
  Process p =
      Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--dtype=f32",
             "--grpc_address=127.0.0.1:0", "--http_address=", "--metrics_address=", "--threads=1"});
  std::string log;
  const std::string ready = ReadUntil(p.err, "ready: gRPC port ", &log);
  ASSERT_FALSE(ready.empty()) << log;
  const int port = GrpcPortOf(ready);
  ASSERT_NE(port, 0) << ready;
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = ember::v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  auto reader = stub->GenerateStream(&context, GreedyRequest(2, 200));
  ember::v1::GenerateStreamResponse m;
  ASSERT_TRUE(reader->Read(&m));  // generating
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  std::vector<int32_t> tokens(m.token_ids().begin(), m.token_ids().end());
  while (reader->Read(&m)) tokens.insert(tokens.end(), m.token_ids().begin(), m.token_ids().end());
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(tokens.size(), 200u);
  EXPECT_EQ(m.finish_reason(), ember::v1::FINISH_REASON_LENGTH);
  // New calls after SIGTERM are refused (or the port is already closed).
  grpc::ClientContext late;
  late.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  ember::v1::GenerateResponse response;
  EXPECT_FALSE(stub->Generate(&late, GreedyRequest(0, 2), &response).ok());
  ReadUntil(p.err, "shutdown complete", &log);
  EXPECT_EQ(WaitExit(p.pid), 0) << log;
  EXPECT_THAT(log, ::testing::HasSubstr("received SIGTERM"));
  std::fclose(p.err);
}

// --weight_format=int4 serves quantized weights: ListModels and the model-info metric name the
// scheme, and generation runs (its numerics are tested in decoder_fidelity_test).
TEST(ServerBinaryTest, QuantizedWeightFormatIsServedAndNamed) {
  Process p = Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--weight_format=int4",
                     "--weight_group_size=32", "--grpc_address=127.0.0.1:0",
                     "--http_address=", "--metrics_address=", "--threads=1"});
  std::string log;
  const std::string ready = ReadUntil(p.err, "ready: gRPC port ", &log);
  ASSERT_FALSE(ready.empty()) << log;
  EXPECT_THAT(log, ::testing::HasSubstr("int4 g32 (bf16 scales)"));
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(GrpcPortOf(ready)),
                                     grpc::InsecureChannelCredentials());
  auto stub = ember::v1::Generation::NewStub(channel);
  grpc::ClientContext list_context;
  ember::v1::ListModelsResponse models;
  ASSERT_TRUE(stub->ListModels(&list_context, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  EXPECT_EQ(models.models(0).dtype(), "int4 g32 (bf16 scales)");
  grpc::ClientContext context;
  ember::v1::GenerateResponse response;
  const grpc::Status s = stub->Generate(&context, GreedyRequest(1, 8), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.token_ids_size(), 8);
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(p.pid), 0);
  std::fclose(p.err);
}

// Eight streams with max_running 1: one decoding and seven waiting when SIGTERM arrives, and a
// 1 s grace that the work may or may not fit in (machine speed decides). Whatever the split:
// health is NOT_SERVING at once, new calls get UNAVAILABLE, every stream either completes or ends
// within the grace (plus slack) with a last message (finish reason cancelled, its usage) and
// UNAVAILABLE, none hangs, and the exit code is 0.
TEST(ServerBinaryTest, SigtermWithStreamsDecodingAndWaitingEndsEveryStreamInTheGrace) {
  constexpr double kGraceSeconds = 1;
  Process p =
      Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--dtype=f32",
             "--grpc_address=127.0.0.1:0", "--http_address=", "--metrics_address=127.0.0.1:0",
             "--threads=1", "--max_running=1", "--log_requests=false", "--drain_grace_seconds=1"});
  std::string log;
  const std::string ready = ReadUntil(p.err, "ready: gRPC port ", &log);
  ASSERT_FALSE(ready.empty()) << log;
  const int port = GrpcPortOf(ready);
  ASSERT_NE(port, 0) << ready;
  int metrics_port = 0;
  const size_t mat = ready.find("metrics port ") + 13;
  const size_t comma = ready.find(',', mat);
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ready.substr(
                                   mat, comma == std::string::npos ? comma : comma - mat)),
                               &metrics_port))
      << ready;
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = ember::v1::Generation::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);

  constexpr int kStreams = 8;
  struct Outcome {
    grpc::Status status;
    size_t tokens = 0;
    ember::v1::GenerateStreamResponse last;
    std::chrono::steady_clock::time_point ended;
  };
  std::vector<Outcome> outcomes(kStreams);
  std::atomic<int> first_tokens{0};
  std::vector<std::thread> streams;
  for (int k = 0; k < kStreams; ++k) {
    streams.emplace_back([&, k] {
      grpc::ClientContext context;
      auto reader = stub->GenerateStream(&context, GreedyRequest(static_cast<size_t>(k % 3), 200));
      ember::v1::GenerateStreamResponse m;
      bool first = true;
      while (reader->Read(&m)) {
        if (first && m.token_ids_size() > 0) ++first_tokens;
        first = false;
        outcomes[k].tokens += static_cast<size_t>(m.token_ids_size());
        outcomes[k].last = m;
      }
      outcomes[k].status = reader->Finish();
      outcomes[k].ended = std::chrono::steady_clock::now();
    });
  }
  // One stream decodes, the rest are queued (all eight submitted).
  double waiting = 0;
  ASSERT_TRUE(WaitUntil([&] {
    auto text = HttpGet(metrics_port, "/metrics");
    waiting = text.ok() ? MetricValue(*text, "ember_requests_waiting") : 0;
    return first_tokens.load() >= 1 && waiting >= 1;
  })) << log;
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  const auto sigterm = std::chrono::steady_clock::now();

  // Health flips at once (or the server is already gone, which a probe also reads as down).
  grpc::health::v1::HealthCheckResponse hr;
  grpc::Status hs;
  grpc::health::v1::HealthCheckResponse::ServingStatus serving =
      grpc::health::v1::HealthCheckResponse::SERVING;
  EXPECT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext c;
        c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        hs = health->Check(&c, grpc::health::v1::HealthCheckRequest(), &hr);
        serving = hr.status();
        return !hs.ok() || serving != grpc::health::v1::HealthCheckResponse::SERVING;
      },
      absl::Seconds(2)));
  const double flip_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sigterm).count();
  EXPECT_TRUE(!hs.ok() || serving == grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // New calls are refused.
  grpc::ClientContext late;
  late.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ember::v1::GenerateResponse response;
  EXPECT_EQ(stub->Generate(&late, GreedyRequest(0, 2), &response).error_code(), grpc::UNAVAILABLE);

  for (std::thread& t : streams) t.join();
  int completed = 0, ended = 0, refused = 0;
  for (int k = 0; k < kStreams; ++k) {
    const Outcome& o = outcomes[k];
    const double seconds = std::chrono::duration<double>(o.ended - sigterm).count();
    EXPECT_LT(seconds, kGraceSeconds + 5) << "stream " << k;
    if (o.status.ok()) {
      ++completed;
      EXPECT_EQ(o.tokens, 200u) << "stream " << k;
    } else if (o.tokens == 0 && o.last.finish_reason() == ember::v1::FINISH_REASON_UNSPECIFIED) {
      // Not yet submitted when the SIGTERM came (on a loaded machine a call can arrive 100 ms
      // after the others): refused like any late call, UNAVAILABLE without a final message.
      ++refused;
      EXPECT_EQ(o.status.error_code(), grpc::UNAVAILABLE)
          << "stream " << k << ": " << o.status.error_message();
    } else {
      ++ended;
      EXPECT_EQ(o.status.error_code(), grpc::UNAVAILABLE)
          << "stream " << k << ": " << o.status.error_message();
      EXPECT_EQ(o.last.finish_reason(), ember::v1::FINISH_REASON_CANCELLED) << "stream " << k;
      EXPECT_EQ(static_cast<size_t>(o.last.usage().generated_tokens()), o.tokens)
          << "stream " << k << ": tokens lost";
    }
  }
  // The one decoding and the one(s) seen waiting at the SIGTERM were admitted: each finished or
  // got its final message.
  EXPECT_GE(completed + ended, 2) << refused << " refused";
  ReadUntil(p.err, "shutdown complete", &log);
  EXPECT_EQ(WaitExit(p.pid), 0) << log;
  std::fclose(p.err);
  std::cout << "SIGTERM with 1 decoding and " << waiting << " waiting: health down after "
            << flip_ms << " ms; " << completed << " streams completed, " << ended
            << " ended with a status at the grace, " << refused << " refused (not yet submitted)\n";
  RecordProperty("health_flip_ms", std::to_string(flip_ms));
  RecordProperty("completed", completed);
  RecordProperty("ended_at_grace", ended);
}

// A drain held up by a client that never reads its stream (output stuck in flow control, a 60 s
// grace): a second SIGTERM ends the process at once, with status 128 + SIGTERM.
TEST(ServerBinaryTest, SecondSigtermExitsAtOnce) {
  Process p =
      Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--dtype=f32",
             "--grpc_address=127.0.0.1:0", "--http_address=", "--metrics_address=", "--threads=1",
             "--drain_grace_seconds=60", "--log_requests=false"});
  std::string log;
  const std::string ready = ReadUntil(p.err, "ready: gRPC port ", &log);
  ASSERT_FALSE(ready.empty()) << log;
  const int port = GrpcPortOf(ready);
  ASSERT_NE(port, 0) << ready;
  // A reader that takes nothing, with a small receive window: the server's writes stop completing.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 << 10);
  auto stub = ember::v1::Generation::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  ember::v1::GenerateRequest bulky = GreedyRequest(0, 240);
  bulky.set_top_logprobs(20);
  auto reader = stub->GenerateStream(&context, bulky);
  ember::v1::GenerateStreamResponse m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  ReadUntil(p.err, "received SIGTERM", &log);
  absl::SleepFor(absl::Milliseconds(500));
  int status = 0;
  EXPECT_EQ(::waitpid(p.pid, &status, WNOHANG), 0) << "the first SIGTERM should still be draining";
  const auto second = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  const int code = WaitExit(p.pid);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - second).count();
  EXPECT_EQ(code, 128 + SIGTERM);
  EXPECT_LT(seconds, 5);
  ReadUntil(p.err, "second SIGTERM", &log);
  EXPECT_THAT(log, ::testing::HasSubstr("exiting without finishing the drain"));
  context.TryCancel();
  std::fclose(p.err);
}

TEST(ServerBinaryTest, BadFlagsAndMissingModelGiveClearErrors) {
  {
    Process p = Spawn({ServerBinary()});
    std::string log;
    ReadUntil(p.err, "\n", &log);
    EXPECT_EQ(WaitExit(p.pid), 2);
    EXPECT_THAT(log, ::testing::HasSubstr("--model_dir is required"));
    std::fclose(p.err);
  }
  {
    Process p = Spawn({ServerBinary(), "--model_dir=/nonexistent/model",
                       "--metrics_address=", "--grpc_address=127.0.0.1:0", "--http_address="});
    std::string log;
    ReadUntil(p.err, "ember_server: ", &log);
    EXPECT_EQ(WaitExit(p.pid), 1);
    EXPECT_THAT(log, ::testing::HasSubstr("/nonexistent/model"));
    std::fclose(p.err);
  }
  {
    Process p = Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--dtype=f64"});
    std::string log;
    ReadUntil(p.err, "\n", &log);
    EXPECT_EQ(WaitExit(p.pid), 2);
    EXPECT_THAT(log, ::testing::HasSubstr("--dtype"));
    std::fclose(p.err);
  }
  // Weight formats that do not exist, or group sizes the kernels do not take.
  const std::pair<std::vector<std::string>, std::string> format_cases[] = {
      {{"--weight_format=int3"}, "--weight_format: must be dtype, int8 or int4"},
      {{"--weight_format=int4", "--weight_group_size=48"}, "--weight_group_size: must be 32, 64"},
      {{"--weight_group_size=64"}, "--weight_group_size: applies only to the int8 and int4"},
  };
  for (const auto& [flags, want] : format_cases) {
    std::vector<std::string> args = {ServerBinary(), "--model_dir=" + TinyLlamaDir()};
    args.insert(args.end(), flags.begin(), flags.end());
    Process p = Spawn(args);
    std::string log;
    ReadUntil(p.err, "\n", &log);
    EXPECT_EQ(WaitExit(p.pid), 2) << flags[0];
    EXPECT_THAT(log, ::testing::HasSubstr(want));
    std::fclose(p.err);
  }
  // Token files that cannot serve: missing, empty, or holding spaces inside the token.
  TempDir dir;
  const std::pair<std::string, std::string> token_cases[] = {
      {dir.File("missing-token"), "--auth_token_file"},
      {dir.Write("empty-token", "\n"), "is empty"},
      {dir.Write("spaced-token", "two words\n"), "printable ASCII without spaces"},
  };
  for (const auto& [file, want] : token_cases) {
    Process p =
        Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--auth_token_file=" + file});
    std::string log;
    ReadUntil(p.err, "\n", &log);
    EXPECT_EQ(WaitExit(p.pid), 2) << file;
    EXPECT_THAT(log, ::testing::HasSubstr(want));
    std::fclose(p.err);
  }
}

}  // namespace
}  // namespace ember::testing
