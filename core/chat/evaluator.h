// Renders a parsed chat template (ast.h) with jinja2's semantics: scopes (a for-loop body gets a
// fresh scope per iteration, so `set` inside a loop does not leak out — hence namespace()), the
// `loop` object, break/continue, macros, and Python's operators on values (value.h).
// Thread-safe for concurrent calls on one Program: all render state lives in the call.
#ifndef EMBER_CORE_CHAT_EVALUATOR_H_
#define EMBER_CORE_CHAT_EVALUATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/chat/ast.h"
#include "core/chat/value.h"

namespace ember::chat {

// `variables` are the template's globals (messages, add_generation_prompt, bos_token, ...).
// Errors are INVALID_ARGUMENT: raise_exception(msg) gives exactly `msg`; other failures (where
// jinja2 raises TypeError or UndefinedError) say what failed and at which line.
absl::StatusOr<std::string> RenderProgram(const Program& program, ValueDict variables);

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_EVALUATOR_H_
