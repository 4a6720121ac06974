// Tokenizer of ember's Jinja subset. It reproduces jinja2 3.1's lexer as transformers configures it
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False): newlines are normalized to
// "\n" and one trailing newline is dropped; `{%-`/`-%}` (and the `{{`/`{#` forms) strip all
// whitespace beside the tag; a block or comment tag eats the one "\n" after it; spaces and tabs
// between a line start and a `{%` or `{#` are removed; `{%+`/`+%}` turn those off for that tag.
// Comments are dropped and `{% raw %}` bodies become text, so the parser sees text, `{{ ... }}` and
// `{% ... %}` token runs only. Pure functions; any thread.
#ifndef EMBER_CORE_CHAT_LEXER_H_
#define EMBER_CORE_CHAT_LEXER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::chat {

enum class TokenType {
  kText,        // Template data, already stripped as the whitespace rules say.
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,        // Identifiers, including keywords (and, or, not, in, is, if, ...).
  kString,      // Value has its escapes decoded.
  kInt,
  kFloat,
  kOperator,  // + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
  kEof,
};

struct Token {
  TokenType type;
  std::string value;
  int line;  // 1-based line of the token's first character.
};

// Tokenizes `source`. Errors are INVALID_ARGUMENT "chat template syntax error at line N: ...".
absl::StatusOr<std::vector<Token>> Lex(absl::string_view source);

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_LEXER_H_
