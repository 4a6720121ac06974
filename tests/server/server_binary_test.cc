// The ember_server binary itself: flags, start-up on a model directory, and SIGTERM draining an
// in-flight stream before exiting 0.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_fixture.h"
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

TEST(ServerBinaryTest, SigtermDrainsAnInFlightStreamAndExitsZero) {
  Process p = Spawn({ServerBinary(), "--model_dir=" + TinyLlamaDir(), "--dtype=f32",
                     "--grpc_address=127.0.0.1:0", "--metrics_address=", "--threads=1"});
  std::string log;
  const std::string ready = ReadUntil(p.err, "ready: gRPC port ", &log);
  ASSERT_FALSE(ready.empty()) << log;
  int port = 0;
  const size_t at = ready.find("port ") + 5;
  ASSERT_TRUE(absl::SimpleAtoi(ready.substr(at, ready.find(',', at) - at), &port)) << ready;
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
                       "--metrics_address=", "--grpc_address=127.0.0.1:0"});
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
