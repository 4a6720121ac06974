// The parser's state and grammar, shared by parser.cc (statements) and expression_parser.cc
// (expressions, jinja2 3.1's precedence). Internal to core/chat: use parser.h.
#ifndef EMBER_CORE_CHAT_PARSER_INTERNAL_H_
#define EMBER_CORE_CHAT_PARSER_INTERNAL_H_

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/chat/ast.h"
#include "core/chat/lexer.h"
#include "core/util/status_macros.h"

namespace ember::chat::internal {

inline absl::Status Unsupported(absl::string_view feature, int line) {
  return absl::InvalidArgumentError(
      absl::StrCat("chat template uses unsupported Jinja feature '", feature, "' at line ", line));
}

inline absl::Status Syntax(int line, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("chat template syntax error at line ", line, ": ", what));
}

inline ExprPtr NewExpr(ExprKind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  absl::StatusOr<StmtList> ParseAll() {
    StmtList body;
    std::string end;
    RETURN_IF_ERROR(ParseBody({}, &body, &end));
    return body;
  }

 private:
  const Token& Cur() const { return toks_[pos_]; }
  const Token& Peek(size_t k = 1) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  bool IsOp(absl::string_view op) const {
    return Cur().type == TokenType::kOperator && Cur().value == op;
  }
  bool IsName(absl::string_view name) const {
    return Cur().type == TokenType::kName && Cur().value == name;
  }
  static std::string Describe(const Token& t) {
    switch (t.type) {
      case TokenType::kEof:
        return "end of template";
      case TokenType::kBlockEnd:
        return "end of statement block";
      case TokenType::kVarEnd:
        return "end of print statement";
      default:
        return absl::StrCat("'", t.value, "'");
    }
  }
  absl::Status Expect(TokenType type, absl::string_view value) {
    if (Cur().type != type || (!value.empty() && Cur().value != value)) {
      return Syntax(Cur().line, absl::StrCat("expected '", value, "', got ", Describe(Cur())));
    }
    ++pos_;
    return absl::OkStatus();
  }
  absl::Status ExpectBlockEnd() { return Expect(TokenType::kBlockEnd, "%}"); }
  absl::StatusOr<std::string> ExpectName() {
    if (Cur().type != TokenType::kName)
      return Syntax(Cur().line, absl::StrCat("expected a name, got ", Describe(Cur())));
    return toks_[pos_++].value;
  }

  // Statements until `{% <one of ends> %}`; *end receives the tag that stopped it (its name token
  // is consumed, the rest of the tag is not).
  absl::Status ParseBody(const std::vector<std::string>& ends, StmtList* body, std::string* end);
  absl::StatusOr<StmtPtr> ParseStatement();
  // `a`, `a, b` or `(a, b)`.
  absl::Status ParseTargets(std::vector<std::string>* targets);
  // jinja2's parse_tuple: `a, b` without brackets is a tuple.
  absl::StatusOr<ExprPtr> ParseTuple(bool with_condexpr);
  absl::StatusOr<ExprPtr> ParseExpression(bool with_condexpr);
  absl::StatusOr<ExprPtr> Binary(absl::string_view op, ExprPtr a, ExprPtr b, int line);
  absl::StatusOr<ExprPtr> ParseOr();
  absl::StatusOr<ExprPtr> ParseAnd();
  absl::StatusOr<ExprPtr> ParseNot();
  absl::StatusOr<ExprPtr> ParseCompare();
  absl::StatusOr<ExprPtr> ParseMath1();
  absl::StatusOr<ExprPtr> ParseConcat();
  absl::StatusOr<ExprPtr> ParseMath2();
  absl::StatusOr<ExprPtr> ParsePow();
  absl::StatusOr<ExprPtr> ParseUnary(bool with_filter);
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> ParsePostfix(ExprPtr e);
  absl::Status ParseArgs(Expr* call);
  absl::StatusOr<ExprPtr> ParseCall(ExprPtr callee);
  absl::StatusOr<ExprPtr> ParseFilterExpr(ExprPtr e);

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
};

}  // namespace ember::chat::internal

#endif  // EMBER_CORE_CHAT_PARSER_INTERNAL_H_
