// The ember_cli binary end to end against the in-process fake server: output, summary, exit codes
// and error messages, as a script or a Docker HEALTHCHECK would see them.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_generation_server.h"
#include "tests/test_util/run_command.h"
#include "tests/test_util/temp_dir.h"

namespace ember::client {
namespace {

using ::ember::testing::CommandResult;
using ::ember::testing::FakeServer;
using ::ember::testing::RunCommand;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `text` single-quoted for /bin/sh.
std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

class EmberCliTest : public ::testing::Test {
 protected:
  // The command line that runs ember_cli with `args` (already quoted), stderr to a file, and
  // EMBER_TOKEN only when `env` sets it.
  std::string Command(const std::string& args, const std::string& env = "") const {
    return absl::StrCat("env -u EMBER_TOKEN ", env, " ", ShellQuote(EMBER_CLI_PATH), " ", args,
                        " 2>", ShellQuote(dir_.File("stderr")));
  }

  CliResult Run(const std::string& args, const std::string& env = "") const {
    const CommandResult run = RunCommand(Command(args, env));
    CliResult result;
    result.exit_code = run.exit_code;
    result.out = run.output;
    std::ifstream err(dir_.File("stderr"));
    std::ostringstream err_text;
    err_text << err.rdbuf();
    result.err = err_text.str();
    return result;
  }

  std::string TargetFlag() const { return absl::StrCat("--target=", server_->target()); }

  ember::testing::TempDir dir_;
  std::unique_ptr<FakeServer> server_ = std::make_unique<FakeServer>();
};

TEST_F(EmberCliTest, GenerateStreamPrintsPiecesThenSummary) {
  const CliResult r =
      Run(absl::StrCat("generate ", TargetFlag(), " --prompt=hi --max_new_tokens=3 --stream"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "piece0 piece1 piece2 \n");
  EXPECT_THAT(r.err, MatchesRegex("ember_cli: generate: LENGTH, 3 tokens \\(prompt 2\\), TTFT "
                                  "[0-9.]+ ms, [0-9.]+ tokens/s, [0-9.]+ s total "
                                  "\\(client-measured\\)\n"));
}

TEST_F(EmberCliTest, GenerateStreamFlushesEachPieceAsItArrives) {
  // An endless stream: the pieces can only reach this pipe before the process ends if ember_cli
  // flushes per piece (a pipe is otherwise fully buffered).
  FILE* pipe = popen(
      Command(absl::StrCat("generate ", TargetFlag(), " --prompt=endless --stream")).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string seen;
  char buffer[256];
  while (seen.find("piece1 ") == std::string::npos) {
    const ssize_t n = read(fileno(pipe), buffer, sizeof(buffer));
    ASSERT_GT(n, 0) << "ember_cli ended before streaming two pieces; got: " << seen;
    seen.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_THAT(seen, ::testing::StartsWith("piece0 piece1 "));
  server_.reset();  // Shutting the server down ends the stream with an error.
  // Drain what ember_cli wrote meanwhile, to its exit: closing the pipe while it still writes
  // would kill it with SIGPIPE (exit 141) instead of letting it report the error.
  while (read(fileno(pipe), buffer, sizeof(buffer)) > 0) {
  }
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
}

TEST_F(EmberCliTest, GenerateJsonAndTokenFromEnvironment) {
  const CliResult r = Run(absl::StrCat("generate ", TargetFlag(), " --prompt=", ShellQuote("a b"),
                                       " --json --temperature=0 --seed=7 --stop=x,y"),
                          "EMBER_TOKEN=from-env");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("\"text\":\"echo: a b\""),
                           HasSubstr("\"finish_reason\":\"FINISH_REASON_LENGTH\"")));
  EXPECT_THAT(r.err, HasSubstr("(server-measured)"));
  EXPECT_THAT(server_->service().last_metadata(),
              ::testing::Contains(::testing::Pair("authorization", "Bearer from-env")));
}

TEST_F(EmberCliTest, ServerErrorIsOneClearLine) {
  const CliResult r = Run(absl::StrCat(
      "generate ", TargetFlag(), " --prompt=",
      ShellQuote("error:INVALID_ARGUMENT:sampling.temperature is 200, want [0, 100]")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ember_cli: generate: INVALID_ARGUMENT: sampling.temperature is 200, want [0, 100]\n");
}

TEST_F(EmberCliTest, HealthExitCodes) {
  CliResult r = Run(absl::StrCat("health ", TargetFlag()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");

  server_->SetServing("ember.v1.Generation", false);
  r = Run(absl::StrCat("health ", TargetFlag(), " --service=ember.v1.Generation"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "NOT_SERVING\n");

  server_->SetServing("ember.v1.Generation", true);
  r = Run(absl::StrCat("health ", TargetFlag(), " --service=ember.v1.Generation --json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"service\":\"ember.v1.Generation\",\"status\":\"SERVING\"}\n");

  r = Run("health --target=127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, AllOf(::testing::StartsWith("ember_cli: health: UNAVAILABLE: "),
                           HasSubstr("(target 127.0.0.1:1)")));
}

TEST_F(EmberCliTest, UsageErrorsAreClearAndNonZero) {
  CliResult r = Run(absl::StrCat("generate ", TargetFlag(), " --prompt=x --max_new_tokens=abc"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, AllOf(HasSubstr("max_new_tokens"), HasSubstr("abc")));

  r = Run(absl::StrCat("health ", TargetFlag(), " --prompt=x"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ember_cli: health: INVALID_ARGUMENT: --prompt does not apply to health (see "
            "--help)\n");

  r = Run(absl::StrCat("generate ", TargetFlag()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ember_cli: generate: INVALID_ARGUMENT: --prompt is required for generate\n");

  r = Run("frobnicate");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));

  r = Run("models --tls_cert=/nonexistent/cert.pem --tls_key=/nonexistent/key.pem");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ember_cli: models: NOT_FOUND: --tls_cert=/nonexistent/cert.pem"));
  EXPECT_EQ(server_->service().calls(), 0);
}

TEST_F(EmberCliTest, TokenizeAndModels) {
  CliResult r = Run(absl::StrCat("tokenize ", TargetFlag(), " --prompt=", ShellQuote("one two")));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "11\tone\n12\ttwo\n");

  r = Run(absl::StrCat("models ", TargetFlag()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("fake-model (default)\tarchitecture=llama"));
}

TEST_F(EmberCliTest, TokenizePrintsTokensAsTextEscapingOnlyControls) {
  // The fake server's tokens are the prompt's space-separated words.
  const CliResult r =
      Run(absl::StrCat("tokenize ", TargetFlag(),
                       " --prompt=", ShellQuote("\xe2\x96\x81H caf\xc3\xa9 a\tb back\\slash")));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "11\t\xe2\x96\x81H\n12\tcaf\xc3\xa9\n13\ta\\tb\n14\tback\\\\slash\n");
}

TEST_F(EmberCliTest, DetokenizePrintsTheText) {
  CliResult r = Run(absl::StrCat("detokenize ", TargetFlag(), " --token_ids=1,20,21"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s> t20 t21\n");

  r = Run(absl::StrCat("detokenize ", TargetFlag(), " --token_ids=1,20,21 --skip_special_tokens"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "t20 t21\n");

  r = Run(absl::StrCat("detokenize ", TargetFlag(), " --token_ids=20,21 --json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"t20 t21\"}\n");

  r = Run(absl::StrCat("detokenize ", TargetFlag(), " --token_ids=20,-3"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ember_cli: detokenize: INVALID_ARGUMENT: token_ids[1]: -3"));
}

TEST_F(EmberCliTest, DetokenizeUsageErrors) {
  CliResult r = Run(absl::StrCat("detokenize ", TargetFlag()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ember_cli: detokenize: INVALID_ARGUMENT: --token_ids is required for detokenize\n");

  r = Run(absl::StrCat("detokenize ", TargetFlag(), " --token_ids=1,two"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ember_cli: detokenize: INVALID_ARGUMENT: --token_ids: \"two\" is not a token id (an "
            "int32)\n");

  r = Run(absl::StrCat("detokenize ", TargetFlag(), " --token_ids=1 --prompt=x"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--prompt does not apply to detokenize"));
  EXPECT_EQ(server_->service().calls(), 0);
}

TEST_F(EmberCliTest, DnsTargetWithRoundRobin) {
  const CliResult r = Run(absl::StrCat("models --target=dns:///localhost:", server_->port(),
                                       " --lb_policy=round_robin --deadline=20"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("fake-model (default)"));
}

TEST_F(EmberCliTest, BadLoadBalancingPolicyIsAUsageError) {
  const CliResult r = Run(absl::StrCat("health ", TargetFlag(), " --lb_policy=grpclb"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ember_cli: health: INVALID_ARGUMENT: --lb_policy=grpclb: want pick_first or "
            "round_robin\n");
  EXPECT_EQ(server_->service().calls(), 0);
}

TEST_F(EmberCliTest, BenchWithoutPromptSendsTheDefaultPrompt) {
  const CliResult r =
      Run(absl::StrCat("bench ", TargetFlag(), " --concurrency=2 --requests=2 --max_new_tokens=2"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server_->service().last_generate_request().prompt(), "Once upon a time");
}

TEST_F(EmberCliTest, BenchJsonReport) {
  const CliResult r = Run(absl::StrCat("bench ", TargetFlag(),
                                       " --concurrency=2 --requests=4 --prompt=x "
                                       "--max_new_tokens=3 --json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("\"requests\":4,\"concurrency\":2,\"requests_ok\":4"),
                           HasSubstr("\"generated_tokens\":12"),
                           HasSubstr("\"itl_seconds\":{\"count\":8,")));
}

TEST_F(EmberCliTest, BeamSearchFlagsReachTheServerAndNBestIsPrinted) {
  const CliResult r =
      Run(absl::StrCat("generate ", TargetFlag(),
                       " --prompt=src --num_beams=4 --length_penalty=0.5 --early_stopping=never "
                       "--no_repeat_ngram_size=3 --num_return_sequences=2"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The text, then one "<score>\t<text>" line per hypothesis, best first.
  EXPECT_EQ(r.out, "echo: src\n-1.0000\thyp0\n-2.0000\thyp1\n");
  const ember::v1::BeamSearch beam = server_->service().last_generate_request().beam();
  EXPECT_EQ(beam.num_beams(), 4);
  ASSERT_TRUE(beam.has_length_penalty());
  EXPECT_EQ(beam.length_penalty(), 0.5f);
  EXPECT_EQ(beam.early_stopping(), ember::v1::EARLY_STOPPING_NEVER);
  EXPECT_EQ(beam.no_repeat_ngram_size(), 3);
  EXPECT_EQ(beam.num_return_sequences(), 2);
}

TEST_F(EmberCliTest, BeamSearchFlagDefaultsLeaveItOff) {
  const CliResult r = Run(absl::StrCat("generate ", TargetFlag(), " --prompt=src"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "echo: src\n");
  const ember::v1::BeamSearch beam = server_->service().last_generate_request().beam();
  EXPECT_EQ(beam.num_beams(), 0);
  EXPECT_FALSE(beam.has_length_penalty());
  EXPECT_EQ(beam.early_stopping(), ember::v1::EARLY_STOPPING_HEURISTIC);
  EXPECT_EQ(beam.num_return_sequences(), 0);

  const CliResult t = Run(
      absl::StrCat("generate ", TargetFlag(), " --prompt=src --num_beams=2 --early_stopping=true"));
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(server_->service().last_generate_request().beam().early_stopping(),
            ember::v1::EARLY_STOPPING_TRUE);
}

TEST_F(EmberCliTest, BadEarlyStoppingIsAUsageError) {
  const CliResult r =
      Run(absl::StrCat("generate ", TargetFlag(), " --prompt=src --early_stopping=maybe"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "ember_cli: generate: INVALID_ARGUMENT: --early_stopping=maybe: want false, true or "
            "never\n");
  EXPECT_EQ(server_->service().calls(), 0);

  const CliResult h = Run(absl::StrCat("health ", TargetFlag(), " --num_beams=4"));
  EXPECT_EQ(h.exit_code, 1);
  EXPECT_THAT(h.err, HasSubstr("--num_beams does not apply to health"));
}

TEST_F(EmberCliTest, HelpDocumentsEveryFlag) {
  const CliResult r = Run("--help");
  for (const char* flag : {"--target",
                           "--deadline",
                           "--tls",
                           "--tls_ca",
                           "--tls_cert",
                           "--tls_key",
                           "--token",
                           "--prompt",
                           "--max_new_tokens",
                           "--stream",
                           "--concurrency",
                           "--requests",
                           "--service",
                           "--json",
                           "--num_beams",
                           "--length_penalty",
                           "--early_stopping",
                           "--no_repeat_ngram_size",
                           "--num_return_sequences",
                           "--token_ids",
                           "--skip_special_tokens",
                           "--lb_policy"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("    ", flag, " ("))) << flag;
  }
}

}  // namespace
}  // namespace ember::client
