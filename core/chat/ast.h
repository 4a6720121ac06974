// The parsed form of a chat template: expression and statement trees built by parser.cc and walked
// by evaluator.cc. Immutable after parsing, so one tree serves concurrent renders.
#ifndef EMBER_CORE_CHAT_AST_H_
#define EMBER_CORE_CHAT_AST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/chat/value.h"

namespace ember::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kLiteral,    // value
  kName,       // name
  kList,       // args
  kTuple,      // args
  kDict,       // args: key, value, key, value, ...
  kGetAttr,    // a.name
  kGetItem,    // a[b]
  kSlice,      // a[b:c:d]; absent parts are null
  kCall,       // a(args, kwargs)
  kFilter,     // a | name(args, kwargs)
  kTest,       // a is [not] name(args); negated
  kUnary,      // op a: "not", "-", "+"
  kBinary,     // a op b: + - * / // % ** ~ and or
  kCompare,    // a op b op c ...: ops in compare_ops, operands a + args
  kCondition,  // a if b else c (c may be null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  Value value;       // kLiteral
  std::string name;  // kName, kGetAttr, kFilter, kTest; operator for kUnary / kBinary
  ExprPtr a, b, c, d;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> compare_ops;
  bool negated = false;  // kTest: `is not`
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

enum class StmtKind {
  kText,    // text
  kOutput,  // {{ expr }}
  kIf,      // branches: (condition, body)...; else_body
  kFor,     // targets in expr [if cond] body [else else_body]
  kSet,     // targets = expr, or targets[0].attr = expr, or block set (body)
  kBreak,
  kContinue,
  kMacro,  // name(params = defaults) body
  kBlock,  // a body rendered in place ({% generation %})
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;                  // kText; kSet attribute name; kMacro name
  ExprPtr expr;                      // kOutput, kFor iterable, kSet value
  ExprPtr cond;                      // kFor filter
  std::vector<std::string> targets;  // kFor / kSet names; kMacro parameter names
  std::vector<ExprPtr> defaults;     // kMacro: default per parameter (null when none)
  std::vector<std::pair<ExprPtr, StmtList>> branches;  // kIf
  StmtList body;
  StmtList else_body;
};

// A parsed template: the root statements plus the source's line count, for messages.
struct Program {
  StmtList body;
};

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_AST_H_
