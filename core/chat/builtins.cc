// Python object model for chat templates: attribute and item access, slicing, iteration,
// containment, str/dict/list methods and the template globals. Filters and tests: filters.cc.
#include "core/chat/builtins.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/chat/string_ops.h"
#include "core/util/status_macros.h"

namespace ember::chat {
namespace {

const Value& UndefinedValue() {
  static const Value* const kUndefined = new Value();
  return *kUndefined;
}

absl::Status TypeError(absl::string_view what) { return absl::InvalidArgumentError(what); }

// Python's index normalization for one element: negative counts from the end; nullopt when out of
// range.
bool NormalizeIndex(int64_t i, size_t size, size_t* out) {
  const auto n = static_cast<int64_t>(size);
  if (i < 0) i += n;
  if (i < 0 || i >= n) return false;
  *out = static_cast<size_t>(i);
  return true;
}

// Python's slice.indices().
absl::Status SliceIndices(const Value& start, const Value& stop, const Value& step, int64_t n,
                          std::vector<int64_t>* out) {
  auto is_missing = [](const Value& v) { return v.is_undefined() || v.is_none(); };
  for (const Value* v : {&start, &stop, &step}) {
    if (!is_missing(*v) && v->kind() != Value::Kind::kInt && v->kind() != Value::Kind::kBool) {
      return TypeError("slice indices must be integers or None");
    }
  }
  const int64_t st = is_missing(step) ? 1 : step.int_value();
  if (st == 0) return TypeError("slice step cannot be zero");
  auto clamp = [&](const Value& v, int64_t def) {
    if (is_missing(v)) return def;
    int64_t i = v.int_value();
    if (i < 0) {
      i += n;
      if (i < 0) i = st < 0 ? -1 : 0;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t lo = clamp(start, st < 0 ? n - 1 : 0);
  const int64_t hi = clamp(stop, st < 0 ? -1 : n);
  for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) out->push_back(i);
  return absl::OkStatus();
}

Value TupleOf(Value a, Value b) { return Value::Tuple({std::move(a), std::move(b)}); }

absl::StatusOr<Value> StringMethod(const std::string& s, absl::string_view name,
                                   const CallArgs& args) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value::String(PyStrip(s, args.Get(0, "chars"), name != "rstrip", name != "lstrip"));
  }
  if (name == "upper") return Value::String(absl::AsciiStrToUpper(s));
  if (name == "lower") return Value::String(absl::AsciiStrToLower(s));
  if (name == "title") return Value::String(PyTitle(s));
  if (name == "capitalize") return Value::String(PyCapitalize(s));
  if (name == "startswith" || name == "endswith") {
    const Value& arg = args.Get(0, "prefix");
    std::vector<std::string> options;
    if (arg.is_string()) {
      options.push_back(arg.str());
    } else if (arg.kind() == Value::Kind::kTuple) {
      for (const Value& v : arg.list()) {
        if (!v.is_string()) return TypeError(absl::StrCat(name, ": tuple items must be str"));
        options.push_back(v.str());
      }
    } else {
      return TypeError(absl::StrCat(name, " first arg must be str or a tuple of str"));
    }
    for (const std::string& o : options) {
      if (name == "startswith" ? absl::StartsWith(s, o) : absl::EndsWith(s, o))
        return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (name == "split" || name == "rsplit") {
    const Value& sep = args.Get(0, "sep");
    const Value& max = args.Get(1, "maxsplit");
    int64_t maxsplit = max.is_undefined() ? -1 : max.int_value();
    if (!sep.is_undefined() && !sep.is_none() && !sep.is_string())
      return TypeError("split: sep must be str");
    ASSIGN_OR_RETURN(ValueList parts, PySplit(s, sep, maxsplit, name == "rsplit"));
    return Value::List(std::move(parts));
  }
  if (name == "replace") {
    const Value& old_s = args.Get(0, "old");
    const Value& new_s = args.Get(1, "new");
    if (!old_s.is_string() || !new_s.is_string())
      return TypeError("replace() arguments must be str");
    const Value& count = args.Get(2, "count");
    return Value::String(
        PyReplace(s, old_s.str(), new_s.str(), count.is_undefined() ? -1 : count.int_value()));
  }
  if (name == "find" || name == "count" || name == "rfind" || name == "index") {
    const Value& sub = args.Get(0, "sub");
    if (!sub.is_string()) return TypeError(absl::StrCat(name, ": argument must be str"));
    return Value::Int(PyFindOrCount(s, sub.str(), name));
  }
  if (name == "join") {
    ASSIGN_OR_RETURN(ValueList items, Iterate(args.Get(0, "iterable")));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) return TypeError("join: sequence item is not a str");
      if (i > 0) out += s;
      out += items[i].str();
    }
    return Value::String(std::move(out));
  }
  if (name == "splitlines") {
    ValueList lines;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') {
        lines.push_back(Value::String(s.substr(start, i - start)));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
      }
    }
    if (start < s.size()) lines.push_back(Value::String(s.substr(start)));
    return Value::List(std::move(lines));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    if (s.empty()) return Value::Bool(false);
    for (char32_t cp : DecodeUtf8(s)) {
      bool ok =
          cp < 0x80 && (name == "isdigit"   ? absl::ascii_isdigit(static_cast<unsigned char>(cp))
                        : name == "isalpha" ? absl::ascii_isalpha(static_cast<unsigned char>(cp))
                        : name == "isalnum" ? absl::ascii_isalnum(static_cast<unsigned char>(cp))
                                            : IsPythonSpace(cp));
      if (name == "isspace" && IsPythonSpace(cp)) ok = true;
      if (!ok) return Value::Bool(false);
    }
    return Value::Bool(true);
  }
  if (name == "format") return PyFormat(s, args);
  return TypeError(absl::StrCat("str object has no supported method '", name, "'"));
}

}  // namespace

const Value& CallArgs::Get(size_t i, absl::string_view name) const {
  if (i < args.size()) return args[i];
  for (const auto& [k, v] : kwargs) {
    if (k == name) return v;
  }
  return UndefinedValue();
}

absl::StatusOr<Value> GetAttr(const Value& object, absl::string_view name) {
  if (object.is_undefined())
    return TypeError(absl::StrCat("'", name, "' of an undefined value is undefined"));
  if (object.is_mapping()) {
    const Value* v = object.dict().Find(name);
    return v == nullptr ? Value() : *v;
  }
  return Value();
}

absl::StatusOr<Value> GetItem(const Value& object, const Value& key) {
  if (object.is_undefined()) return TypeError("subscript of an undefined value");
  if (object.kind() == Value::Kind::kDict) {
    if (!key.is_string()) return Value();
    const Value* v = object.dict().Find(key.str());
    return v == nullptr ? Value() : *v;
  }
  if (object.kind() == Value::Kind::kNamespace && key.is_string())
    return GetAttr(object, key.str());
  const bool int_key = key.kind() == Value::Kind::kInt || key.kind() == Value::Kind::kBool;
  if (object.is_sequence() && int_key) {
    size_t i;
    if (!NormalizeIndex(key.int_value(), object.list().size(), &i)) return Value();
    return object.list()[i];
  }
  if (object.is_string() && int_key) {
    std::vector<char32_t> cps = DecodeUtf8(object.str());
    size_t i;
    if (!NormalizeIndex(key.int_value(), cps.size(), &i)) return Value();
    std::string out;
    AppendUtf8(cps[i], &out);
    return Value::String(std::move(out));
  }
  return Value();
}

absl::StatusOr<Value> Slice(const Value& object, const Value& start, const Value& stop,
                            const Value& step) {
  std::vector<int64_t> idx;
  if (object.is_string()) {
    std::vector<char32_t> cps = DecodeUtf8(object.str());
    RETURN_IF_ERROR(SliceIndices(start, stop, step, static_cast<int64_t>(cps.size()), &idx));
    std::string out;
    for (int64_t i : idx) AppendUtf8(cps[static_cast<size_t>(i)], &out);
    return Value::String(std::move(out));
  }
  if (object.is_sequence()) {
    RETURN_IF_ERROR(
        SliceIndices(start, stop, step, static_cast<int64_t>(object.list().size()), &idx));
    ValueList out;
    for (int64_t i : idx) out.push_back(object.list()[static_cast<size_t>(i)]);
    return object.kind() == Value::Kind::kTuple ? Value::Tuple(std::move(out))
                                                : Value::List(std::move(out));
  }
  if (object.is_undefined()) return TypeError("slice of an undefined value");
  return Value();  // jinja2 turns the TypeError into Undefined.
}

absl::StatusOr<ValueList> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return ValueList();
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return v.list();
    case Value::Kind::kDict: {
      ValueList keys;
      for (const auto& [k, unused] : v.dict().items) keys.push_back(Value::String(k));
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      for (char32_t cp : DecodeUtf8(v.str())) {
        std::string c;
        AppendUtf8(cp, &c);
        chars.push_back(Value::String(std::move(c)));
      }
      return chars;
    }
    default:
      return TypeError(absl::StrCat("'", v.Repr(), "' is not iterable"));
  }
}

absl::StatusOr<bool> Contains(const Value& haystack, const Value& needle) {
  if (haystack.is_string()) {
    if (!needle.is_string()) return TypeError("'in <string>' requires string as left operand");
    return absl::StrContains(haystack.str(), needle.str());
  }
  if (haystack.is_mapping()) {
    return needle.is_string() && haystack.dict().Find(needle.str()) != nullptr;
  }
  if (haystack.is_sequence()) {
    for (const Value& item : haystack.list()) {
      if (Equals(item, needle)) return true;
    }
    return false;
  }
  if (haystack.is_undefined()) return false;
  return TypeError("argument of 'in' is not iterable");
}

absl::StatusOr<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(DecodeUtf8(v.str()).size());
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.dict().items.size());
    default:
      return TypeError(absl::StrCat("object of type '", v.Repr(), "' has no len()"));
  }
}

absl::StatusOr<Value> CallMethod(const Value& object, absl::string_view name,
                                 const CallArgs& args) {
  if (object.is_undefined())
    return TypeError(absl::StrCat("'", name, "' of an undefined value is undefined"));
  if (object.is_string()) return StringMethod(object.str(), name, args);
  if (object.kind() == Value::Kind::kDict) {
    const ValueDict& d = object.dict();
    if (name == "get") {
      const Value& key = args.Get(0, "key");
      const Value* v = key.is_string() ? d.Find(key.str()) : nullptr;
      if (v != nullptr) return *v;
      const Value& def = args.Get(1, "default");
      return def.is_undefined() ? Value::None() : def;
    }
    if (name == "keys" || name == "values" || name == "items") {
      ValueList out;
      for (const auto& [k, v] : d.items) {
        out.push_back(name == "keys"     ? Value::String(k)
                      : name == "values" ? v
                                         : TupleOf(Value::String(k), v));
      }
      return Value::List(std::move(out));
    }
    if (name == "copy") return object;
    if (name == "update" || name == "pop" || name == "setdefault" || name == "clear" ||
        name == "popitem") {
      return TypeError(
          absl::StrCat("access to the unsafe dict method '", name, "' (the sandbox is immutable)"));
    }
    // A key holding a callable cannot come from JSON: calling it fails as calling Undefined does.
    return TypeError(absl::StrCat("dict has no supported method '", name, "'"));
  }
  if (object.is_sequence()) {
    if (name == "index" || name == "count") {
      const Value& x = args.Get(0, "value");
      int64_t count = 0;
      for (size_t i = 0; i < object.list().size(); ++i) {
        if (Equals(object.list()[i], x)) {
          if (name == "index") return Value::Int(static_cast<int64_t>(i));
          ++count;
        }
      }
      if (name == "index") return TypeError("list.index(x): x not in list");
      return Value::Int(count);
    }
    return TypeError(absl::StrCat("access to the list method '", name,
                                  "' is not supported (the sandbox is immutable)"));
  }
  if (object.kind() == Value::Kind::kNamespace) {
    return TypeError(absl::StrCat("namespace attribute '", name, "' is not callable"));
  }
  return TypeError(absl::StrCat("'", object.Repr(), "' has no method '", name, "'"));
}

bool IsGlobalFunction(absl::string_view name) {
  return name == "namespace" || name == "range" || name == "raise_exception" ||
         name == "strftime_now" || name == "dict";
}

absl::StatusOr<Value> CallGlobal(absl::string_view name, const CallArgs& args) {
  if (name == "namespace" || name == "dict") {
    ValueDict attrs;
    for (const Value& a : args.args) {
      if (a.kind() != Value::Kind::kDict)
        return TypeError(absl::StrCat(name, "(): positional argument must be a dict"));
      for (const auto& [k, v] : a.dict().items) attrs.Set(k, v);
    }
    for (const auto& [k, v] : args.kwargs) attrs.Set(k, v);
    return name == "dict" ? Value::Dict(std::move(attrs)) : Value::Namespace(std::move(attrs));
  }
  if (name == "range") {
    int64_t start = 0, stop = 0, step = 1;
    for (const Value& a : args.args) {
      if (a.kind() != Value::Kind::kInt && a.kind() != Value::Kind::kBool)
        return TypeError("range(): integer expected");
    }
    if (args.args.size() == 1) {
      stop = args.args[0].int_value();
    } else if (args.args.size() >= 2) {
      start = args.args[0].int_value();
      stop = args.args[1].int_value();
      if (args.args.size() >= 3) step = args.args[2].int_value();
    }
    if (step == 0) return TypeError("range() arg 3 must not be zero");
    ValueList out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.size() >= 100000) return TypeError("range too big (the sandbox allows 100000 items)");
      out.push_back(Value::Int(i));
    }
    return Value::List(std::move(out));
  }
  if (name == "raise_exception") {
    return absl::InvalidArgumentError(args.Get(0, "message").ToString());
  }
  if (name == "strftime_now") {
    const Value& fmt = args.Get(0, "format");
    if (!fmt.is_string()) return TypeError("strftime_now(format): format must be a string");
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[256];
    size_t n = std::strftime(buf, sizeof(buf), fmt.str().c_str(), &local);
    return Value::String(std::string(buf, n));
  }
  return absl::NotFoundError(absl::StrCat("'", name, "' is undefined"));
}

}  // namespace ember::chat
