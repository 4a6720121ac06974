// Parser of ember's Jinja subset: tokens from lexer.h into the trees of ast.h, with jinja2 3.1's
// grammar and operator precedence (filters bind tighter than arithmetic, `not` looser than
// comparisons, chained comparisons). Everything outside the subset — macros' callers, includes,
// inheritance, unknown filters and tests — is refused here, naming the construct and its line, so a
// template either renders as transformers would or does not load. Pure function; any thread.
#ifndef EMBER_CORE_CHAT_PARSER_H_
#define EMBER_CORE_CHAT_PARSER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/chat/ast.h"

namespace ember::chat {

// Errors are INVALID_ARGUMENT: "chat template syntax error at line N: ..." or
// "chat template uses unsupported Jinja feature 'X' at line N".
absl::StatusOr<std::shared_ptr<const Program>> ParseTemplate(absl::string_view source);

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_PARSER_H_
