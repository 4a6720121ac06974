// README.md's examples run as written: every `ember_cli ...` command in a code block of README.md
// (backslash-continued lines joined, trailing `# comments` dropped) runs from the repository's
// root, with --target added, against a real server on the embedded default model
// (models/kjv-llama), or on the tiny generated MarianMT for the commands under a "Translation"
// heading, and must exit 0 (for `health`: the server is SERVING).

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/run_command.h"
#include "tests/test_util/temp_dir.h"  // SourceDir

namespace ember::testing {
namespace {

using ::testing::Contains;

// One command as README.md quotes it.
struct CliCommand {
  int line = 0;         // 1-based line of README.md where it starts
  std::string heading;  // the nearest heading above it
  std::string args;     // everything after `ember_cli`
};

// `line` without a trailing shell comment: from a '#' at the start or after whitespace, outside
// quotes, to the end.
std::string StripComment(absl::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' &&
               (i == 0 || absl::ascii_isspace(static_cast<unsigned char>(line[i - 1])))) {
      return std::string(absl::StripTrailingAsciiWhitespace(line.substr(0, i)));
    }
  }
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

// The ember_cli commands in `markdown`'s fenced code blocks.
std::vector<CliCommand> ExtractCliCommands(absl::string_view markdown) {
  std::vector<CliCommand> commands;
  const std::vector<absl::string_view> lines = absl::StrSplit(markdown, '\n');
  bool in_code = false;
  std::string heading;
  for (size_t i = 0; i < lines.size(); ++i) {
    const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(lines[i]);
    if (absl::StartsWith(trimmed, "```")) {
      in_code = !in_code;
      continue;
    }
    if (!in_code) {
      absl::string_view title = lines[i];
      if (absl::ConsumePrefix(&title, "#")) {
        while (absl::ConsumePrefix(&title, "#")) {
        }
        heading = std::string(absl::StripAsciiWhitespace(title));
      }
      continue;
    }
    // Join continuation lines: a line ending in a backslash goes on with the next.
    const size_t first = i;
    std::string command = StripComment(trimmed);
    while (absl::EndsWith(command, "\\") && i + 1 < lines.size()) {
      command.pop_back();
      absl::StrAppend(&command, " ", StripComment(absl::StripLeadingAsciiWhitespace(lines[++i])));
    }
    const std::string program = command.substr(0, command.find(' '));
    if (program != "ember_cli" && !absl::EndsWith(program, "/ember_cli")) continue;
    commands.push_back({static_cast<int>(first) + 1, heading,
                        std::string(absl::StripAsciiWhitespace(command.substr(program.size())))});
  }
  return commands;
}

TEST(ReadmeCommandsParsingTest, JoinsContinuationsAndDropsComments) {
  const std::string markdown = R"(# Title
ember_cli outside --a code block
## Calling it
```sh
ember_cli health                    # exit code 0 when SERVING
ember_cli generate --prompt="C# is # not a comment" \
  --max_new_tokens=4   # trailing
docker run ember
```
### Translation models
  ```sh
  build/x/ember_cli generate --num_beams=4
  ```
)";
  const std::vector<CliCommand> commands = ExtractCliCommands(markdown);
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0].args, "health");
  EXPECT_EQ(commands[0].heading, "Calling it");
  EXPECT_EQ(commands[0].line, 5);
  EXPECT_EQ(commands[1].args, "generate --prompt=\"C# is # not a comment\"  --max_new_tokens=4");
  EXPECT_EQ(commands[2].args, "generate --num_beams=4");
  EXPECT_EQ(commands[2].heading, "Translation models");
}

std::string ReadReadme() {
  std::ifstream in(SourceDir() + "/README.md");
  EXPECT_TRUE(in.good()) << SourceDir() << "/README.md";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Subcommand(const CliCommand& command) {
  return command.args.substr(0, command.args.find(' '));
}

TEST(ReadmeCommandsTest, ReadmeShowsEverySubcommand) {
  std::vector<std::string> subcommands;
  for (const CliCommand& command : ExtractCliCommands(ReadReadme())) {
    subcommands.push_back(Subcommand(command));
  }
  for (const char* expected :
       {"generate", "tokenize", "detokenize", "models", "health", "bench", "perplexity"}) {
    EXPECT_THAT(subcommands, Contains(expected));
  }
}

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CliRun RunCli(const std::string& args, int port) {
  // `timeout`: a command that hangs fails this test instead of stalling ctest.
  // From the repository's root, as a reader runs them (paths such as models/... resolve).
  const std::string line =
      absl::StrCat("cd '", SourceDir(), "' && env -u EMBER_TOKEN timeout 300 '", EMBER_CLI_PATH,
                   "' ", args, " --target=127.0.0.1:", port, " 2>&1");
  const CommandResult result = RunCommand(line);
  return {result.exit_code, result.output};
}

TEST(ReadmeCommandsTest, EveryReadmeCommandExitsZero) {
  const std::vector<CliCommand> commands = ExtractCliCommands(ReadReadme());
  ASSERT_GE(commands.size(), 8u) << "README.md's ember_cli examples were not found";
  std::unique_ptr<ServerHarness> llama;
  std::unique_ptr<ServerHarness> marian;
  for (const CliCommand& command : commands) {
    const bool translation = absl::StrContains(command.heading, "Translation");
    std::unique_ptr<ServerHarness>& server = translation ? marian : llama;
    if (server == nullptr) {
      ServerOptions options = TestServerOptions();
      options.engine.model_dir = translation ? TinyMarianDir() : SourceDir() + "/models/kjv-llama";
      server = std::make_unique<ServerHarness>(options);
    }
    const CliRun run = RunCli(command.args, server->server().grpc_port());
    std::printf("README.md:%d: ember_cli %s -> exit %d\n", command.line, command.args.c_str(),
                run.exit_code);
    EXPECT_EQ(run.exit_code, 0) << "README.md:" << command.line << ": ember_cli " << command.args
                                << " (on " << (translation ? "tiny-marian" : "kjv-llama") << ")\n"
                                << run.output;
  }
}

}  // namespace
}  // namespace ember::testing
