#include "core/chat/evaluator.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/chat/builtins.h"
#include "core/util/status_macros.h"

namespace ember::chat {
namespace {

absl::Status ErrorAt(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("chat template error at line ", line, ": ", what));
}

// Arithmetic on two values with Python's rules (bool counts as int; / is true division).
absl::StatusOr<Value> Arithmetic(absl::string_view op, const Value& a, const Value& b) {
  if (a.is_undefined() || b.is_undefined()) {
    return absl::InvalidArgumentError(absl::StrCat("'", op, "' on an undefined value"));
  }
  if (a.is_number() && b.is_number()) {
    const bool floats = a.kind() == Value::Kind::kFloat || b.kind() == Value::Kind::kFloat;
    if (op == "/") {
      if (b.float_value() == 0) return absl::InvalidArgumentError("division by zero");
      return Value::Float(a.float_value() / b.float_value());
    }
    if (floats) {
      const double x = a.float_value(), y = b.float_value();
      if (op == "+") return Value::Float(x + y);
      if (op == "-") return Value::Float(x - y);
      if (op == "*") return Value::Float(x * y);
      if (op == "**") return Value::Float(std::pow(x, y));
      if (y == 0) return absl::InvalidArgumentError("float division by zero");
      if (op == "//") return Value::Float(std::floor(x / y));
      if (op == "%") {
        double r = std::fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value::Float(r);
      }
    } else {
      const int64_t x = a.int_value(), y = b.int_value();
      if (op == "+") return Value::Int(x + y);
      if (op == "-") return Value::Int(x - y);
      if (op == "*") return Value::Int(x * y);
      if (op == "**") {
        if (y < 0) return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
        int64_t r = 1;
        for (int64_t i = 0; i < y; ++i) r *= x;
        return Value::Int(r);
      }
      if (y == 0) return absl::InvalidArgumentError("integer division or modulo by zero");
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      if (op == "//") return Value::Int(q);
      if (op == "%") return Value::Int(r);
    }
  }
  if (op == "+" && a.is_string() && b.is_string()) return Value::String(a.str() + b.str());
  if (op == "+" && a.is_sequence() && a.kind() == b.kind()) {
    ValueList items = a.list();
    items.insert(items.end(), b.list().begin(), b.list().end());
    return a.kind() == Value::Kind::kTuple ? Value::Tuple(std::move(items))
                                           : Value::List(std::move(items));
  }
  if (op == "*" && (a.is_string() || a.is_sequence()) &&
      (b.kind() == Value::Kind::kInt || b.kind() == Value::Kind::kBool)) {
    if (a.is_string()) {
      std::string out;
      for (int64_t i = 0; i < b.int_value(); ++i) out += a.str();
      return Value::String(std::move(out));
    }
    ValueList items;
    for (int64_t i = 0; i < b.int_value(); ++i)
      items.insert(items.end(), a.list().begin(), a.list().end());
    return a.kind() == Value::Kind::kTuple ? Value::Tuple(std::move(items))
                                           : Value::List(std::move(items));
  }
  if (op == "*" && b.is_string() &&
      (a.kind() == Value::Kind::kInt || a.kind() == Value::Kind::kBool)) {
    return Arithmetic(op, b, a);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported operand types for ", op, ": ", a.Repr(), " and ", b.Repr()));
}

absl::StatusOr<bool> Compare(absl::string_view op, const Value& a, const Value& b) {
  if (op == "==") return Equals(a, b);
  if (op == "!=") return !Equals(a, b);
  if (op == "in") return Contains(b, a);
  if (op == "not in") {
    ASSIGN_OR_RETURN(bool in, Contains(b, a));
    return !in;
  }
  if (op == "<") return LessThan(a, b);
  if (op == ">") return LessThan(b, a);
  if (op == "<=") {
    if (Equals(a, b)) return true;
    return LessThan(a, b);
  }
  if (Equals(a, b)) return true;  // >=
  return LessThan(b, a);
}

class Renderer {
 public:
  explicit Renderer(ValueDict globals) { frames_.push_back(std::move(globals)); }

  absl::Status Exec(const StmtList& body, std::string* out) {
    for (const StmtPtr& s : body) {
      RETURN_IF_ERROR(ExecOne(*s, out));
      if (flow_ != Flow::kNormal) return absl::OkStatus();
    }
    return absl::OkStatus();
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // Variables, innermost scope first; then macros and global functions, as callables.
  Value Lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      if (const Value* v = it->Find(name)) return *v;
    }
    if (FindMacro(name) != nullptr || IsGlobalFunction(name)) return Value::Callable(name);
    return Value();
  }
  const Stmt* FindMacro(const std::string& name) const {
    for (auto it = macros_.rbegin(); it != macros_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return nullptr;
  }

  absl::Status Bind(const std::vector<std::string>& targets, const Value& value, int line,
                    ValueDict* frame) {
    if (targets.size() == 1) {
      frame->Set(targets[0], value);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(ValueList items, Iterate(value));
    if (items.size() != targets.size()) {
      return ErrorAt(line, absl::StrCat("cannot unpack ", items.size(), " values into ",
                                        targets.size(), " names"));
    }
    for (size_t i = 0; i < targets.size(); ++i) frame->Set(targets[i], items[i]);
    return absl::OkStatus();
  }

  absl::Status ExecOne(const Stmt& s, std::string* out) {
    switch (s.kind) {
      case StmtKind::kText:
        out->append(s.text);
        return absl::OkStatus();
      case StmtKind::kOutput: {
        ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
        out->append(v.ToString());
        return absl::OkStatus();
      }
      case StmtKind::kIf:
        for (const auto& [cond, body] : s.branches) {
          ASSIGN_OR_RETURN(Value c, Eval(*cond));
          if (c.Truthy()) return Exec(body, out);
        }
        return Exec(s.else_body, out);
      case StmtKind::kFor:
        return ExecFor(s, out);
      case StmtKind::kSet: {
        Value v;
        if (s.expr != nullptr) {
          ASSIGN_OR_RETURN(v, Eval(*s.expr));
        } else {
          std::string captured;
          RETURN_IF_ERROR(Exec(s.body, &captured));
          v = Value::String(std::move(captured));
        }
        if (!s.text.empty()) {
          Value ns = Lookup(s.targets[0]);
          if (ns.kind() != Value::Kind::kNamespace) {
            return ErrorAt(s.line, "cannot assign attribute on non-namespace object");
          }
          ns.mutable_namespace().Set(s.text, std::move(v));
          return absl::OkStatus();
        }
        return Bind(s.targets, v, s.line, &frames_.back());
      }
      case StmtKind::kBreak:
        flow_ = Flow::kBreak;
        return absl::OkStatus();
      case StmtKind::kContinue:
        flow_ = Flow::kContinue;
        return absl::OkStatus();
      case StmtKind::kMacro:
        macros_.emplace_back(s.text, &s);
        return absl::OkStatus();
      case StmtKind::kBlock:
        return Exec(s.body, out);
    }
    return absl::OkStatus();
  }

  absl::Status ExecFor(const Stmt& s, std::string* out) {
    ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr));
    ASSIGN_OR_RETURN(ValueList all, Iterate(iterable));
    ValueList items;
    if (s.cond == nullptr) {
      items = std::move(all);
    } else {
      for (Value& item : all) {
        frames_.emplace_back();
        absl::Status bound = Bind(s.targets, item, s.line, &frames_.back());
        absl::StatusOr<Value> keep = bound.ok() ? Eval(*s.cond) : absl::StatusOr<Value>(bound);
        frames_.pop_back();
        if (!keep.ok()) return keep.status();
        if (keep->Truthy()) items.push_back(std::move(item));
      }
    }
    if (items.empty()) {
      frames_.emplace_back();
      absl::Status st = Exec(s.else_body, out);
      frames_.pop_back();
      return st;
    }
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      ValueDict loop;
      loop.Set("index", Value::Int(i + 1));
      loop.Set("index0", Value::Int(i));
      loop.Set("revindex", Value::Int(n - i));
      loop.Set("revindex0", Value::Int(n - i - 1));
      loop.Set("first", Value::Bool(i == 0));
      loop.Set("last", Value::Bool(i == n - 1));
      loop.Set("length", Value::Int(n));
      loop.Set("depth", Value::Int(1));
      loop.Set("depth0", Value::Int(0));
      if (i > 0) loop.Set("previtem", items[static_cast<size_t>(i - 1)]);
      if (i + 1 < n) loop.Set("nextitem", items[static_cast<size_t>(i + 1)]);
      frames_.emplace_back();
      frames_.back().Set("loop", Value::Dict(std::move(loop)));
      absl::Status st = Bind(s.targets, items[static_cast<size_t>(i)], s.line, &frames_.back());
      if (st.ok()) st = Exec(s.body, out);
      frames_.pop_back();
      RETURN_IF_ERROR(st);
      const Flow flow = flow_;
      flow_ = Flow::kNormal;
      if (flow == Flow::kBreak) break;
    }
    return absl::OkStatus();
  }

  absl::Status EvalArgs(const Expr& e, CallArgs* args) {
    for (const ExprPtr& a : e.args) {
      ASSIGN_OR_RETURN(Value v, Eval(*a));
      args->args.push_back(std::move(v));
    }
    for (const auto& [k, a] : e.kwargs) {
      ASSIGN_OR_RETURN(Value v, Eval(*a));
      args->kwargs.emplace_back(k, std::move(v));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Value> CallMacro(const Stmt& macro, const CallArgs& args, int line) {
    if (args.args.size() > macro.targets.size())
      return ErrorAt(line, absl::StrCat("macro '", macro.text, "' takes fewer arguments"));
    ValueDict params;
    for (size_t i = 0; i < macro.targets.size(); ++i) {
      Value v = args.Get(i, macro.targets[i]);
      if (v.is_undefined() && macro.defaults[i] != nullptr) {
        ASSIGN_OR_RETURN(v, Eval(*macro.defaults[i]));
      }
      params.Set(macro.targets[i], std::move(v));
    }
    for (const auto& [k, unused] : args.kwargs) {
      if (params.Find(k) == nullptr)
        return ErrorAt(line, absl::StrCat("macro '", macro.text, "' has no argument '", k, "'"));
    }
    // A macro sees the template's globals and its parameters, not its caller's locals.
    std::vector<ValueDict> saved;
    saved.swap(frames_);
    frames_.push_back(saved.front());
    frames_.push_back(std::move(params));
    std::string out;
    absl::Status st = Exec(macro.body, &out);
    flow_ = Flow::kNormal;
    saved.front() = std::move(frames_.front());
    frames_.swap(saved);
    RETURN_IF_ERROR(st);
    return Value::String(std::move(out));
  }

  absl::StatusOr<Value> EvalCall(const Expr& e) {
    CallArgs args;
    RETURN_IF_ERROR(EvalArgs(e, &args));
    const Expr& callee = *e.a;
    if (callee.kind == ExprKind::kGetAttr) {
      ASSIGN_OR_RETURN(Value object, Eval(*callee.a));
      absl::StatusOr<Value> r = CallMethod(object, callee.name, args);
      if (!r.ok()) return ErrorAt(e.line, r.status().message());
      return r;
    }
    ASSIGN_OR_RETURN(Value fn, Eval(callee));
    if (fn.kind() != Value::Kind::kCallable) {
      if (fn.is_undefined()) return ErrorAt(e.line, "calling an undefined value");
      return ErrorAt(e.line, "object is not callable");
    }
    if (const Stmt* macro = FindMacro(fn.str())) return CallMacro(*macro, args, e.line);
    absl::StatusOr<Value> r = CallGlobal(fn.str(), args);
    if (!r.ok() && fn.str() == "raise_exception") raised_ = r.status();
    if (!r.ok()) return ErrorAt(e.line, r.status().message());
    return r;
  }

  absl::StatusOr<Value> Eval(const Expr& e) {
    absl::StatusOr<Value> r = EvalInner(e);
    if (!r.ok() && !absl::StartsWith(r.status().message(), "chat template error")) {
      return ErrorAt(e.line, r.status().message());
    }
    return r;
  }

  absl::StatusOr<Value> EvalInner(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kLiteral:
        return e.value;
      case ExprKind::kName:
        return Lookup(e.name);
      case ExprKind::kList:
      case ExprKind::kTuple: {
        ValueList items;
        for (const ExprPtr& a : e.args) {
          ASSIGN_OR_RETURN(Value v, Eval(*a));
          items.push_back(std::move(v));
        }
        return e.kind == ExprKind::kList ? Value::List(std::move(items))
                                         : Value::Tuple(std::move(items));
      }
      case ExprKind::kDict: {
        ValueDict dict;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          ASSIGN_OR_RETURN(Value k, Eval(*e.args[i]));
          ASSIGN_OR_RETURN(Value v, Eval(*e.args[i + 1]));
          if (!k.is_string())
            return ErrorAt(e.line, "dict keys other than strings are not supported");
          dict.Set(k.str(), std::move(v));
        }
        return Value::Dict(std::move(dict));
      }
      case ExprKind::kGetAttr: {
        ASSIGN_OR_RETURN(Value object, Eval(*e.a));
        return GetAttr(object, e.name);
      }
      case ExprKind::kGetItem: {
        ASSIGN_OR_RETURN(Value object, Eval(*e.a));
        ASSIGN_OR_RETURN(Value key, Eval(*e.b));
        return GetItem(object, key);
      }
      case ExprKind::kSlice: {
        ASSIGN_OR_RETURN(Value object, Eval(*e.a));
        Value parts[3];
        const Expr* exprs[3] = {e.b.get(), e.c.get(), e.d.get()};
        for (int i = 0; i < 3; ++i) {
          if (exprs[i] != nullptr) {
            ASSIGN_OR_RETURN(parts[i], Eval(*exprs[i]));
          }
        }
        return Slice(object, parts[0], parts[1], parts[2]);
      }
      case ExprKind::kCall:
        return EvalCall(e);
      case ExprKind::kFilter: {
        ASSIGN_OR_RETURN(Value v, Eval(*e.a));
        CallArgs args;
        RETURN_IF_ERROR(EvalArgs(e, &args));
        return ApplyFilter(e.name, v, args);
      }
      case ExprKind::kTest: {
        ASSIGN_OR_RETURN(Value v, Eval(*e.a));
        CallArgs args;
        RETURN_IF_ERROR(EvalArgs(e, &args));
        ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, v, args));
        return Value::Bool(r != e.negated);
      }
      case ExprKind::kUnary: {
        ASSIGN_OR_RETURN(Value v, Eval(*e.a));
        if (e.name == "not") return Value::Bool(!v.Truthy());
        if (!v.is_number())
          return ErrorAt(e.line, absl::StrCat("bad operand type for unary ", e.name));
        if (e.name == "+") return v.kind() == Value::Kind::kBool ? Value::Int(v.int_value()) : v;
        return v.kind() == Value::Kind::kFloat ? Value::Float(-v.float_value())
                                               : Value::Int(-v.int_value());
      }
      case ExprKind::kBinary: {
        ASSIGN_OR_RETURN(Value a, Eval(*e.a));
        if (e.name == "and") return a.Truthy() ? Eval(*e.b) : a;
        if (e.name == "or") return a.Truthy() ? a : Eval(*e.b);
        ASSIGN_OR_RETURN(Value b, Eval(*e.b));
        if (e.name == "~") return Value::String(a.ToString() + b.ToString());
        return Arithmetic(e.name, a, b);
      }
      case ExprKind::kCompare: {
        ASSIGN_OR_RETURN(Value left, Eval(*e.a));
        for (size_t i = 0; i < e.args.size(); ++i) {
          ASSIGN_OR_RETURN(Value right, Eval(*e.args[i]));
          ASSIGN_OR_RETURN(bool ok, Compare(e.compare_ops[i], left, right));
          if (!ok) return Value::Bool(false);
          left = std::move(right);
        }
        return Value::Bool(true);
      }
      case ExprKind::kCondition: {
        ASSIGN_OR_RETURN(Value c, Eval(*e.b));
        if (c.Truthy()) return Eval(*e.a);
        if (e.c == nullptr) return Value();
        return Eval(*e.c);
      }
    }
    return Value();
  }

  std::vector<ValueDict> frames_;  // [0] = render variables; one more per loop iteration.
  std::vector<std::pair<std::string, const Stmt*>> macros_;
  Flow flow_ = Flow::kNormal;

 public:
  // raise_exception(msg)'s status, which reaches the caller with exactly `msg`.
  absl::Status raised_;
};

}  // namespace

absl::StatusOr<std::string> RenderProgram(const Program& program, ValueDict variables) {
  Renderer renderer(std::move(variables));
  std::string out;
  absl::Status st = renderer.Exec(program.body, &out);
  if (!renderer.raised_.ok()) return renderer.raised_;
  RETURN_IF_ERROR(st);
  return out;
}

}  // namespace ember::chat
