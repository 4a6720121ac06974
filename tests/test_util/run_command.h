// Runs a shell command line for tests (the CLI tests run ember_cli as a user would): its standard
// output and its exit code.
#ifndef EMBER_TESTS_TEST_UTIL_RUN_COMMAND_H_
#define EMBER_TESTS_TEST_UTIL_RUN_COMMAND_H_

#include <string>

namespace ember::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not start or did not exit normally
  std::string output;  // standard output (redirect stderr in `line` to get it too)
};

CommandResult RunCommand(const std::string& line);

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_RUN_COMMAND_H_
