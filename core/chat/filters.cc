// jinja2's filters and tests as transformers' environment has them (its tojson replaces jinja2's).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/chat/builtins.h"
#include "core/chat/string_ops.h"
#include "core/util/status_macros.h"

namespace ember::chat {
namespace {

const absl::flat_hash_set<std::string>& Filters() {
  static const auto* const kFilters = new absl::flat_hash_set<std::string>{
      "abs",        "capitalize", "count",  "d",          "default", "e",       "escape", "first",
      "float",      "format",     "int",    "items",      "join",    "last",    "length", "list",
      "lower",      "map",        "reject", "rejectattr", "replace", "reverse", "safe",   "select",
      "selectattr", "string",     "title",  "tojson",     "trim",    "upper"};
  return *kFilters;
}

const absl::flat_hash_set<std::string>& Tests() {
  static const auto* const kTests = new absl::flat_hash_set<std::string>{
      "boolean",  "defined", "divisibleby", "eq",        "equalto", "even",     "false", "float",
      "ge",       "gt",      "greaterthan", "in",        "integer", "iterable", "le",    "lessthan",
      "lower",    "lt",      "mapping",     "ne",        "none",    "number",   "odd",   "sameas",
      "sequence", "string",  "true",        "undefined", "upper"};
  return *kTests;
}

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0.
absl::StatusOr<Value> GetPath(const Value& item, absl::string_view path) {
  Value v = item;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    int64_t index;
    if (absl::SimpleAtoi(part, &index)) {
      ASSIGN_OR_RETURN(v, GetItem(v, Value::Int(index)));
    } else {
      ASSIGN_OR_RETURN(v, GetItem(v, Value::String(std::string(part))));
    }
  }
  return v;
}

// The test named by args[first] with the remaining positional args, or truthiness when absent.
absl::StatusOr<bool> SelectTest(const Value& v, const CallArgs& args, size_t first) {
  if (args.args.size() <= first) return v.Truthy();
  const Value& name = args.args[first];
  if (!name.is_string() || !IsSupportedTest(name.str())) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported test '", name.ToString(), "' in select"));
  }
  CallArgs test_args;
  test_args.args.assign(args.args.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                        args.args.end());
  return ApplyTest(name.str(), v, test_args);
}

absl::StatusOr<Value> ToInt(const Value& v, const Value& def) {
  const Value fallback = def.is_undefined() ? Value::Int(0) : def;
  switch (v.kind()) {
    case Value::Kind::kInt:
    case Value::Kind::kBool:
      return Value::Int(v.int_value());
    case Value::Kind::kFloat:
      if (!std::isfinite(v.float_value())) return fallback;
      return Value::Int(static_cast<int64_t>(v.float_value()));
    case Value::Kind::kString: {
      std::string s = PyStrip(v.str(), Value(), true, true);
      int64_t i;
      double d;
      if (absl::SimpleAtoi(s, &i)) return Value::Int(i);
      if (absl::SimpleAtod(s, &d) && std::isfinite(d)) return Value::Int(static_cast<int64_t>(d));
      return fallback;
    }
    default:
      return fallback;
  }
}

absl::StatusOr<Value> ToFloat(const Value& v, const Value& def) {
  const Value fallback = def.is_undefined() ? Value::Float(0.0) : def;
  if (v.is_number()) return Value::Float(v.float_value());
  if (v.is_string()) {
    double d;
    if (absl::SimpleAtod(PyStrip(v.str(), Value(), true, true), &d)) return Value::Float(d);
  }
  return fallback;
}

}  // namespace

bool IsSupportedFilter(absl::string_view name) { return Filters().contains(name); }
bool IsSupportedTest(absl::string_view name) { return Tests().contains(name); }

absl::StatusOr<Value> ApplyFilter(absl::string_view name, const Value& v, const CallArgs& args) {
  if (name == "safe") return v;
  if (name == "trim") return Value::String(PyStrip(v.ToString(), args.Get(0, "chars"), true, true));
  if (name == "upper") return Value::String(absl::AsciiStrToUpper(v.ToString()));
  if (name == "lower") return Value::String(absl::AsciiStrToLower(v.ToString()));
  if (name == "title") return Value::String(JinjaTitle(v.ToString()));
  if (name == "capitalize") return Value::String(PyCapitalize(v.ToString()));
  if (name == "string") return v.is_string() ? v : Value::String(v.ToString());
  if (name == "escape" || name == "e") return Value::String(HtmlEscape(v.ToString()));
  if (name == "length" || name == "count") {
    ASSIGN_OR_RETURN(int64_t n, Length(v));
    return Value::Int(n);
  }
  if (name == "tojson") {
    const Value& indent = args.Get(1, "indent");
    for (const auto& [k, unused] : args.kwargs) {
      if (k != "indent" && k != "ensure_ascii") {
        return absl::InvalidArgumentError(absl::StrCat("tojson: unsupported argument '", k, "'"));
      }
    }
    const Value& ensure_ascii = args.Get(0, "ensure_ascii");
    if (ensure_ascii.Truthy())
      return absl::InvalidArgumentError("tojson: ensure_ascii=True is not supported");
    int n = -1;
    if (!indent.is_undefined() && !indent.is_none()) {
      if (indent.kind() != Value::Kind::kInt)
        return absl::InvalidArgumentError("tojson: indent must be an int");
      n = static_cast<int>(std::max<int64_t>(0, indent.int_value()));
    }
    ASSIGN_OR_RETURN(std::string json, v.ToJson(n));
    return Value::String(std::move(json));
  }
  if (name == "default" || name == "d") {
    const bool use_default = v.is_undefined() || (args.Get(1, "boolean").Truthy() && !v.Truthy());
    if (!use_default) return v;
    const Value& def = args.Get(0, "default_value");
    return def.is_undefined() ? Value::String("") : def;
  }
  if (name == "replace") {
    const Value& count = args.Get(2, "count");
    return Value::String(
        PyReplace(v.ToString(), args.Get(0, "old").ToString(), args.Get(1, "new").ToString(),
                  count.is_undefined() || count.is_none() ? -1 : count.int_value()));
  }
  if (name == "int") return ToInt(v, args.Get(0, "default"));
  if (name == "float") return ToFloat(v, args.Get(0, "default"));
  if (name == "abs") {
    if (v.kind() == Value::Kind::kFloat) return Value::Float(std::fabs(v.float_value()));
    if (v.is_number()) return Value::Int(v.int_value() < 0 ? -v.int_value() : v.int_value());
    return absl::InvalidArgumentError("abs: bad operand type");
  }
  if (name == "format") {
    if (!args.kwargs.empty())
      return absl::InvalidArgumentError("format: keyword arguments are not supported");
    return PyPercentFormat(v.ToString(), args.args);
  }
  if (name == "list") {
    ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    return Value::List(std::move(items));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::List({});
    if (!v.is_mapping())
      return absl::InvalidArgumentError("items: can only get item pairs from a mapping");
    ValueList out;
    for (const auto& [k, item] : v.dict().items)
      out.push_back(Value::Tuple({Value::String(k), item}));
    return Value::List(std::move(out));
  }
  if (name == "first" || name == "last") {
    ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    if (items.empty()) return Value();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<char32_t> cps = DecodeUtf8(v.str());
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) AppendUtf8(*it, &out);
      return Value::String(std::move(out));
    }
    ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    return Value::List(ValueList(items.rbegin(), items.rend()));
  }
  if (name == "join") {
    ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    const Value& attribute = args.Get(1, "attribute");
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += args.Get(0, "d").ToString();
      Value item = items[i];
      if (!attribute.is_undefined()) {
        ASSIGN_OR_RETURN(item, GetPath(item, attribute.ToString()));
      }
      out += item.ToString();
    }
    return Value::String(std::move(out));
  }
  if (name == "map") {
    ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    ValueList out;
    const Value& attribute = args.Get(99, "attribute");
    for (const Value& item : items) {
      if (!attribute.is_undefined()) {
        ASSIGN_OR_RETURN(Value got, GetPath(item, attribute.ToString()));
        const Value& def = args.Get(99, "default");
        out.push_back(got.is_undefined() && !def.is_undefined() ? def : got);
        continue;
      }
      if (args.args.empty() || !args.args[0].is_string() ||
          !IsSupportedFilter(args.args[0].str())) {
        return absl::InvalidArgumentError("map: expected an attribute= or a supported filter name");
      }
      CallArgs filter_args;
      filter_args.args.assign(args.args.begin() + 1, args.args.end());
      filter_args.kwargs = args.kwargs;
      ASSIGN_OR_RETURN(Value mapped, ApplyFilter(args.args[0].str(), item, filter_args));
      out.push_back(std::move(mapped));
    }
    return Value::List(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_when = name == "select" || name == "selectattr";
    ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    ValueList out;
    for (const Value& item : items) {
      Value subject = item;
      if (by_attr) {
        if (args.args.empty())
          return absl::InvalidArgumentError(absl::StrCat(name, ": missing attribute"));
        ASSIGN_OR_RETURN(subject, GetPath(item, args.args[0].ToString()));
      }
      ASSIGN_OR_RETURN(bool pass, SelectTest(subject, args, by_attr ? 1 : 0));
      if (pass == keep_when) out.push_back(item);
    }
    return Value::List(std::move(out));
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported filter '", name, "'"));
}

absl::StatusOr<bool> ApplyTest(absl::string_view name, const Value& v, const CallArgs& args) {
  const Value& arg = args.Get(0, "value");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind() == Value::Kind::kInt;
  if (name == "float") return v.kind() == Value::Kind::kFloat;
  if (name == "boolean") return v.kind() == Value::Kind::kBool;
  if (name == "true") return v.kind() == Value::Kind::kBool && v.bool_value();
  if (name == "false") return v.kind() == Value::Kind::kBool && !v.bool_value();
  if (name == "mapping") return v.kind() == Value::Kind::kDict;
  if (name == "iterable")
    return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_mapping();
  if (name == "sequence")
    return v.is_undefined() || v.is_string() || v.is_sequence() || v.kind() == Value::Kind::kDict;
  if (name == "lower")
    return v.ToString() == absl::AsciiStrToLower(v.ToString()) &&
           v.ToString() != absl::AsciiStrToUpper(v.ToString());
  if (name == "upper")
    return v.ToString() == absl::AsciiStrToUpper(v.ToString()) &&
           v.ToString() != absl::AsciiStrToLower(v.ToString());
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_number() || v.kind() == Value::Kind::kFloat)
      return absl::InvalidArgumentError(absl::StrCat(name, ": needs an integer"));
    int64_t m = name == "divisibleby" ? arg.int_value() : 2;
    if (m == 0) return absl::InvalidArgumentError("divisibleby: division by zero");
    int64_t r = ((v.int_value() % m) + m) % m;
    return name == "odd" ? r == 1 : r == 0;
  }
  if (name == "eq" || name == "equalto") return Equals(v, arg);
  if (name == "ne") return !Equals(v, arg);
  if (name == "sameas") {
    if (v.is_none() || v.kind() == Value::Kind::kBool || v.is_undefined())
      return v.kind() == arg.kind() && Equals(v, arg);
    return false;
  }
  if (name == "lt" || name == "lessthan") return LessThan(v, arg);
  if (name == "gt" || name == "greaterthan") return LessThan(arg, v);
  if (name == "le") {
    ASSIGN_OR_RETURN(bool gt, LessThan(arg, v));
    return !gt;
  }
  if (name == "ge") {
    ASSIGN_OR_RETURN(bool lt, LessThan(v, arg));
    return !lt;
  }
  if (name == "in") return Contains(arg, v);
  return absl::InvalidArgumentError(absl::StrCat("unsupported test '", name, "'"));
}

}  // namespace ember::chat
