// The expression half of the parser: jinja2 3.1's grammar and precedence (filters bind tighter
// than arithmetic, `not` looser than comparisons, chained comparisons).
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

namespace ember::chat::internal {

absl::StatusOr<ExprPtr> Parser::ParseTuple(bool with_condexpr) {
  const int line = Cur().line;
  std::vector<ExprPtr> items;
  bool comma = false;
  while (true) {
    if (!items.empty()) {
      if (!IsOp(",")) break;
      ++pos_;
      comma = true;
    }
    if (Cur().type == TokenType::kBlockEnd || Cur().type == TokenType::kVarEnd || IsOp(")")) {
      break;
    }
    if (with_condexpr) {
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
      items.push_back(std::move(e));
    } else {
      ASSIGN_OR_RETURN(ExprPtr e, ParseOr());
      items.push_back(std::move(e));
    }
  }
  if (!comma && items.size() == 1) return std::move(items[0]);
  if (items.empty())
    return Syntax(line, absl::StrCat("expected an expression, got ", Describe(Cur())));
  auto e = NewExpr(ExprKind::kTuple, line);
  e->args = std::move(items);
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  if (!with_condexpr) return ParseOr();
  ASSIGN_OR_RETURN(ExprPtr e, ParseOr());
  while (IsName("if")) {
    auto cond = NewExpr(ExprKind::kCondition, Cur().line);
    ++pos_;
    ASSIGN_OR_RETURN(cond->b, ParseOr());
    if (IsName("else")) {
      ++pos_;
      ASSIGN_OR_RETURN(cond->c, ParseExpression(true));
    }
    cond->a = std::move(e);
    e = std::move(cond);
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::Binary(absl::string_view op, ExprPtr a, ExprPtr b, int line) {
  auto e = NewExpr(ExprKind::kBinary, line);
  e->name = std::string(op);
  e->a = std::move(a);
  e->b = std::move(b);
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseOr() {
  ASSIGN_OR_RETURN(ExprPtr e, ParseAnd());
  while (IsName("or")) {
    int line = Cur().line;
    ++pos_;
    ASSIGN_OR_RETURN(ExprPtr r, ParseAnd());
    ASSIGN_OR_RETURN(e, Binary("or", std::move(e), std::move(r), line));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseAnd() {
  ASSIGN_OR_RETURN(ExprPtr e, ParseNot());
  while (IsName("and")) {
    int line = Cur().line;
    ++pos_;
    ASSIGN_OR_RETURN(ExprPtr r, ParseNot());
    ASSIGN_OR_RETURN(e, Binary("and", std::move(e), std::move(r), line));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseNot() {
  if (IsName("not")) {
    auto e = NewExpr(ExprKind::kUnary, Cur().line);
    e->name = "not";
    ++pos_;
    ASSIGN_OR_RETURN(e->a, ParseNot());
    return e;
  }
  return ParseCompare();
}

absl::StatusOr<ExprPtr> Parser::ParseCompare() {
  const int line = Cur().line;
  ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
  auto e = NewExpr(ExprKind::kCompare, line);
  while (true) {
    std::string op;
    if (Cur().type == TokenType::kOperator &&
        (Cur().value == "==" || Cur().value == "!=" || Cur().value == "<" || Cur().value == "<=" ||
         Cur().value == ">" || Cur().value == ">=")) {
      op = Cur().value;
      ++pos_;
    } else if (IsName("in")) {
      op = "in";
      ++pos_;
    } else if (IsName("not") && Peek().type == TokenType::kName && Peek().value == "in") {
      op = "not in";
      pos_ += 2;
    } else {
      break;
    }
    ASSIGN_OR_RETURN(ExprPtr rhs, ParseMath1());
    e->compare_ops.push_back(op);
    e->args.push_back(std::move(rhs));
  }
  if (e->compare_ops.empty()) return first;
  e->a = std::move(first);
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseMath1() {
  ASSIGN_OR_RETURN(ExprPtr e, ParseConcat());
  while (IsOp("+") || IsOp("-")) {
    std::string op = Cur().value;
    int line = Cur().line;
    ++pos_;
    ASSIGN_OR_RETURN(ExprPtr r, ParseConcat());
    ASSIGN_OR_RETURN(e, Binary(op, std::move(e), std::move(r), line));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseConcat() {
  ASSIGN_OR_RETURN(ExprPtr e, ParseMath2());
  while (IsOp("~")) {
    int line = Cur().line;
    ++pos_;
    ASSIGN_OR_RETURN(ExprPtr r, ParseMath2());
    ASSIGN_OR_RETURN(e, Binary("~", std::move(e), std::move(r), line));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseMath2() {
  ASSIGN_OR_RETURN(ExprPtr e, ParsePow());
  while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
    std::string op = Cur().value;
    int line = Cur().line;
    ++pos_;
    ASSIGN_OR_RETURN(ExprPtr r, ParsePow());
    ASSIGN_OR_RETURN(e, Binary(op, std::move(e), std::move(r), line));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParsePow() {
  ASSIGN_OR_RETURN(ExprPtr e, ParseUnary(true));
  while (IsOp("**")) {
    int line = Cur().line;
    ++pos_;
    ASSIGN_OR_RETURN(ExprPtr r, ParseUnary(true));
    ASSIGN_OR_RETURN(e, Binary("**", std::move(e), std::move(r), line));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseUnary(bool with_filter) {
  ExprPtr e;
  if (IsOp("-") || IsOp("+")) {
    e = NewExpr(ExprKind::kUnary, Cur().line);
    e->name = Cur().value;
    ++pos_;
    ASSIGN_OR_RETURN(e->a, ParseUnary(false));
  } else {
    ASSIGN_OR_RETURN(e, ParsePrimary());
  }
  ASSIGN_OR_RETURN(e, ParsePostfix(std::move(e)));
  if (with_filter) {
    ASSIGN_OR_RETURN(e, ParseFilterExpr(std::move(e)));
  }
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Cur();
  if (t.type == TokenType::kName) {
    ++pos_;
    auto e = NewExpr(ExprKind::kLiteral, t.line);
    if (t.value == "true" || t.value == "True") {
      e->value = Value::Bool(true);
    } else if (t.value == "false" || t.value == "False") {
      e->value = Value::Bool(false);
    } else if (t.value == "none" || t.value == "None") {
      e->value = Value::None();
    } else {
      e->kind = ExprKind::kName;
      e->name = t.value;
    }
    return e;
  }
  if (t.type == TokenType::kString) {
    auto e = NewExpr(ExprKind::kLiteral, t.line);
    std::string s;
    while (Cur().type == TokenType::kString) s += toks_[pos_++].value;
    e->value = Value::String(std::move(s));
    return e;
  }
  if (t.type == TokenType::kInt || t.type == TokenType::kFloat) {
    ++pos_;
    auto e = NewExpr(ExprKind::kLiteral, t.line);
    if (t.type == TokenType::kInt) {
      int64_t i;
      if (!absl::SimpleAtoi(t.value, &i))
        return Unsupported(absl::StrCat("integer literal ", t.value), t.line);
      e->value = Value::Int(i);
    } else {
      double d;
      if (!absl::SimpleAtod(t.value, &d)) return Syntax(t.line, "bad float literal");
      e->value = Value::Float(d);
    }
    return e;
  }
  if (IsOp("(")) {
    ++pos_;
    if (IsOp(")")) {
      ++pos_;
      return NewExpr(ExprKind::kTuple, t.line);
    }
    ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(true));
    RETURN_IF_ERROR(Expect(TokenType::kOperator, ")"));
    return e;
  }
  if (IsOp("[") || IsOp("{")) {
    const bool dict = IsOp("{");
    auto e = NewExpr(dict ? ExprKind::kDict : ExprKind::kList, t.line);
    ++pos_;
    const char* close = dict ? "}" : "]";
    while (!IsOp(close)) {
      if (!e->args.empty()) {
        RETURN_IF_ERROR(Expect(TokenType::kOperator, ","));
        if (IsOp(close)) break;
      }
      ASSIGN_OR_RETURN(ExprPtr item, ParseExpression(true));
      e->args.push_back(std::move(item));
      if (dict) {
        RETURN_IF_ERROR(Expect(TokenType::kOperator, ":"));
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
        e->args.push_back(std::move(value));
      }
    }
    ++pos_;
    return e;
  }
  return Syntax(t.line, absl::StrCat("unexpected ", Describe(t)));
}

absl::StatusOr<ExprPtr> Parser::ParsePostfix(ExprPtr e) {
  while (true) {
    const int line = Cur().line;
    if (IsOp(".")) {
      ++pos_;
      if (Cur().type == TokenType::kInt) {
        auto item = NewExpr(ExprKind::kGetItem, line);
        item->a = std::move(e);
        item->b = NewExpr(ExprKind::kLiteral, line);
        int64_t i = 0;
        (void)absl::SimpleAtoi(toks_[pos_++].value, &i);
        item->b->value = Value::Int(i);
        e = std::move(item);
        continue;
      }
      auto attr = NewExpr(ExprKind::kGetAttr, line);
      ASSIGN_OR_RETURN(attr->name, ExpectName());
      attr->a = std::move(e);
      e = std::move(attr);
    } else if (IsOp("[")) {
      ++pos_;
      ExprPtr parts[3];
      int n = 0;
      bool slice = false;
      while (true) {
        if (!IsOp(":") && !IsOp("]")) {
          ASSIGN_OR_RETURN(parts[n], ParseExpression(true));
        }
        if (IsOp(":") && n < 2) {
          slice = true;
          ++pos_;
          ++n;
          continue;
        }
        break;
      }
      if (IsOp(",")) return Unsupported("tuple subscript", line);
      RETURN_IF_ERROR(Expect(TokenType::kOperator, "]"));
      auto item = NewExpr(slice ? ExprKind::kSlice : ExprKind::kGetItem, line);
      item->a = std::move(e);
      if (!slice && parts[0] == nullptr) return Syntax(line, "expected a subscript");
      item->b = std::move(parts[0]);
      item->c = std::move(parts[1]);
      item->d = std::move(parts[2]);
      e = std::move(item);
    } else if (IsOp("(")) {
      ASSIGN_OR_RETURN(e, ParseCall(std::move(e)));
    } else {
      return e;
    }
  }
}

absl::Status Parser::ParseArgs(Expr* call) {
  RETURN_IF_ERROR(Expect(TokenType::kOperator, "("));
  bool first = true;
  while (!IsOp(")")) {
    if (!first) {
      RETURN_IF_ERROR(Expect(TokenType::kOperator, ","));
      if (IsOp(")")) break;
    }
    first = false;
    if (IsOp("*") || IsOp("**")) return Unsupported("*args/**kwargs in a call", Cur().line);
    if (Cur().type == TokenType::kName && Peek().type == TokenType::kOperator &&
        Peek().value == "=") {
      std::string key = Cur().value;
      pos_ += 2;
      ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
      call->kwargs.emplace_back(std::move(key), std::move(v));
    } else {
      if (!call->kwargs.empty())
        return Syntax(Cur().line, "positional argument after keyword argument");
      ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
      call->args.push_back(std::move(v));
    }
  }
  ++pos_;
  return absl::OkStatus();
}

absl::StatusOr<ExprPtr> Parser::ParseCall(ExprPtr callee) {
  auto call = NewExpr(ExprKind::kCall, Cur().line);
  call->a = std::move(callee);
  RETURN_IF_ERROR(ParseArgs(call.get()));
  return call;
}

absl::StatusOr<ExprPtr> Parser::ParseFilterExpr(ExprPtr e) {
  while (true) {
    const int line = Cur().line;
    if (IsOp("|")) {
      ++pos_;
      auto f = NewExpr(ExprKind::kFilter, line);
      ASSIGN_OR_RETURN(f->name, ExpectName());
      if (!IsSupportedFilter(f->name)) return Unsupported(absl::StrCat("filter ", f->name), line);
      if (IsOp("(")) RETURN_IF_ERROR(ParseArgs(f.get()));
      f->a = std::move(e);
      e = std::move(f);
    } else if (IsName("is")) {
      ++pos_;
      auto test = NewExpr(ExprKind::kTest, line);
      if (IsName("not")) {
        test->negated = true;
        ++pos_;
      }
      ASSIGN_OR_RETURN(test->name, ExpectName());
      if (!IsSupportedTest(test->name)) return Unsupported(absl::StrCat("test ", test->name), line);
      if (IsOp("(")) {
        RETURN_IF_ERROR(ParseArgs(test.get()));
      } else if ((Cur().type == TokenType::kName || Cur().type == TokenType::kString ||
                  Cur().type == TokenType::kInt || Cur().type == TokenType::kFloat || IsOp("[") ||
                  IsOp("{")) &&
                 !IsName("else") && !IsName("or") && !IsName("and")) {
        ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
        ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
        test->args.push_back(std::move(arg));
      }
      test->a = std::move(e);
      e = std::move(test);
    } else if (IsOp("(")) {
      ASSIGN_OR_RETURN(e, ParseCall(std::move(e)));
    } else {
      return e;
    }
  }
}

}  // namespace ember::chat::internal
