#include "core/chat/parser.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/chat/builtins.h"
#include "core/chat/lexer.h"
#include "core/chat/parser_internal.h"
#include "core/util/status_macros.h"

namespace ember::chat {
namespace internal {

absl::Status Parser::ParseBody(const std::vector<std::string>& ends, StmtList* body,
                               std::string* end) {
  while (true) {
    const Token& t = Cur();
    switch (t.type) {
      case TokenType::kEof:
        if (ends.empty()) return absl::OkStatus();
        return Syntax(t.line,
                      absl::StrCat("unexpected end of template, expected '", ends.back(), "'"));
      case TokenType::kText: {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->text = t.value;
        body->push_back(std::move(s));
        ++pos_;
        break;
      }
      case TokenType::kVarBegin: {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kOutput;
        s->line = t.line;
        ++pos_;
        ASSIGN_OR_RETURN(s->expr, ParseTuple(true));
        RETURN_IF_ERROR(Expect(TokenType::kVarEnd, "}}"));
        body->push_back(std::move(s));
        break;
      }
      case TokenType::kBlockBegin: {
        ++pos_;
        if (Cur().type != TokenType::kName) return Syntax(Cur().line, "tag name expected");
        for (const std::string& e : ends) {
          if (Cur().value == e) {
            *end = e;
            ++pos_;
            return absl::OkStatus();
          }
        }
        ASSIGN_OR_RETURN(StmtPtr s, ParseStatement());
        if (s != nullptr) body->push_back(std::move(s));
        break;
      }
      default:
        return Syntax(t.line, absl::StrCat("unexpected ", Describe(t)));
    }
  }
}

absl::StatusOr<StmtPtr> Parser::ParseStatement() {
  static const absl::flat_hash_set<std::string> kUnsupported = {
      "call", "filter",     "with", "block", "extends",   "include", "import",
      "from", "autoescape", "do",   "trans", "pluralize", "print"};
  const Token& t = Cur();
  auto s = std::make_unique<Stmt>();
  s->line = t.line;
  const std::string tag = t.value;
  if (kUnsupported.contains(tag)) return Unsupported(tag, t.line);
  ++pos_;
  if (tag == "if") {
    s->kind = StmtKind::kIf;
    std::string end = "elif";
    while (end == "elif") {
      ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(false));
      RETURN_IF_ERROR(ExpectBlockEnd());
      StmtList body;
      RETURN_IF_ERROR(ParseBody({"elif", "else", "endif"}, &body, &end));
      s->branches.emplace_back(std::move(cond), std::move(body));
    }
    if (end == "else") {
      RETURN_IF_ERROR(ExpectBlockEnd());
      RETURN_IF_ERROR(ParseBody({"endif"}, &s->else_body, &end));
    }
    RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  if (tag == "for") {
    s->kind = StmtKind::kFor;
    RETURN_IF_ERROR(ParseTargets(&s->targets));
    RETURN_IF_ERROR(Expect(TokenType::kName, "in"));
    ASSIGN_OR_RETURN(s->expr, ParseTuple(false));
    if (IsName("if")) {
      ++pos_;
      ASSIGN_OR_RETURN(s->cond, ParseExpression(true));
    }
    if (IsName("recursive")) return Unsupported("recursive for loop", Cur().line);
    RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    ++loop_depth_;
    absl::Status body_status = ParseBody({"endfor", "else"}, &s->body, &end);
    --loop_depth_;
    RETURN_IF_ERROR(body_status);
    if (end == "else") {
      RETURN_IF_ERROR(ExpectBlockEnd());
      RETURN_IF_ERROR(ParseBody({"endfor"}, &s->else_body, &end));
    }
    RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  if (tag == "set") {
    s->kind = StmtKind::kSet;
    if (Cur().type == TokenType::kName && Peek().type == TokenType::kOperator &&
        Peek().value == ".") {
      s->targets.push_back(Cur().value);
      pos_ += 2;
      ASSIGN_OR_RETURN(s->text, ExpectName());
    } else {
      RETURN_IF_ERROR(ParseTargets(&s->targets));
    }
    if (IsOp("=")) {
      ++pos_;
      ASSIGN_OR_RETURN(s->expr, ParseTuple(true));
      RETURN_IF_ERROR(ExpectBlockEnd());
      return s;
    }
    if (IsOp("|")) return Unsupported("filtered block set", Cur().line);
    if (!s->text.empty() || s->targets.size() != 1) return Syntax(Cur().line, "expected '='");
    RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    RETURN_IF_ERROR(ParseBody({"endset"}, &s->body, &end));
    RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  if (tag == "break" || tag == "continue") {
    if (loop_depth_ == 0) return Syntax(t.line, absl::StrCat("'", tag, "' outside of a loop"));
    s->kind = tag == "break" ? StmtKind::kBreak : StmtKind::kContinue;
    RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  if (tag == "generation") {  // transformers' AssistantTracker: renders its body in place.
    s->kind = StmtKind::kBlock;
    RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    RETURN_IF_ERROR(ParseBody({"endgeneration"}, &s->body, &end));
    RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  if (tag == "macro") {
    s->kind = StmtKind::kMacro;
    ASSIGN_OR_RETURN(s->text, ExpectName());
    RETURN_IF_ERROR(Expect(TokenType::kOperator, "("));
    while (!IsOp(")")) {
      if (!s->targets.empty()) RETURN_IF_ERROR(Expect(TokenType::kOperator, ","));
      if (IsOp(")")) break;
      ASSIGN_OR_RETURN(std::string param, ExpectName());
      s->targets.push_back(param);
      ExprPtr def;
      if (IsOp("=")) {
        ++pos_;
        ASSIGN_OR_RETURN(def, ParseExpression(true));
      }
      s->defaults.push_back(std::move(def));
    }
    ++pos_;
    RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    RETURN_IF_ERROR(ParseBody({"endmacro"}, &s->body, &end));
    RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }
  return Unsupported(tag, t.line);
}

absl::Status Parser::ParseTargets(std::vector<std::string>* targets) {
  bool paren = IsOp("(");
  if (paren) ++pos_;
  while (true) {
    ASSIGN_OR_RETURN(std::string name, ExpectName());
    targets->push_back(name);
    if (!IsOp(",")) break;
    ++pos_;
    if (Cur().type != TokenType::kName) break;
  }
  if (paren) RETURN_IF_ERROR(Expect(TokenType::kOperator, ")"));
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<std::shared_ptr<const Program>> ParseTemplate(absl::string_view source) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  internal::Parser parser(std::move(tokens));
  auto program = std::make_shared<Program>();
  ASSIGN_OR_RETURN(program->body, parser.ParseAll());
  return std::shared_ptr<const Program>(std::move(program));
}

}  // namespace ember::chat
