// The value type of ember's chat-template evaluator: the subset of Python objects a Hugging Face
// chat template sees (None, bool, int, float, str, list, tuple, dict, jinja2's Undefined and
// namespace). Semantics follow Python and jinja2 3.1, because the output must be byte-identical to
// what transformers renders: str() of a float is Python's repr, == between int and float is
// numeric, dicts keep insertion order, and strings are UTF-8 whose length and indices count code
// points. Internal to core/chat. Values are cheap to copy (lists and dicts are shared, never
// mutated after construction except a namespace's attributes, which only the rendering thread
// touches).
#ifndef EMBER_CORE_CHAT_VALUE_H_
#define EMBER_CORE_CHAT_VALUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace ember::chat {

class Value;
using ValueList = std::vector<Value>;
// An insertion-ordered str -> Value map (Python dict order); linear lookup suits chat messages.
struct ValueDict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* Find(absl::string_view key) const;
  void Set(std::string key, Value value);
};

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kTuple,
    kDict,
    kNamespace,
    kCallable
  };  // kCallable: a global function or macro, by name.

  Value() = default;  // Undefined.
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value String(std::string s);
  static Value List(ValueList items);
  static Value Tuple(ValueList items);
  static Value Dict(ValueDict dict);
  static Value Namespace(ValueDict attrs);
  static Value Callable(std::string name);
  // JSON objects keep the order of `json` (nlohmann::json sorts keys; ordered_json does not).
  static Value FromJson(const nlohmann::json& json);
  static Value FromJson(const nlohmann::ordered_json& json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const {  // Python's numbers.Number, which includes bool.
    return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool;
  }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }

  bool bool_value() const { return b_; }
  int64_t int_value() const { return kind_ == Kind::kBool ? int64_t{b_} : i_; }
  double float_value() const {  // Any number as a double.
    return kind_ == Kind::kFloat ? f_ : static_cast<double>(int_value());
  }
  const std::string& str() const { return s_; }
  const ValueList& list() const { return *list_; }
  const ValueDict& dict() const { return *dict_; }
  // A namespace's attributes, which `{% set ns.x = ... %}` assigns through every copy.
  ValueDict& mutable_namespace() const { return *dict_; }

  // Python truthiness; Undefined is false.
  bool Truthy() const;
  // Python str(): what `{{ value }}` prints. Undefined prints as "".
  std::string ToString() const;
  // Python repr(), used for items inside a printed list or dict.
  std::string Repr() const;
  // transformers' tojson: json.dumps(value, ensure_ascii=False, indent=indent); indent < 0 means
  // None (one line, ", " and ": " separators). Fails on Undefined and namespaces, as Python does.
  absl::StatusOr<std::string> ToJson(int indent) const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<ValueDict> dict_;
};

// Python ==, without loose conversions ("1" != 1) but with 1 == 1.0 == True.
bool Equals(const Value& a, const Value& b);
// Python <; fails (TypeError in Python) for values that do not order.
absl::StatusOr<bool> LessThan(const Value& a, const Value& b);
// Python's repr of a float: the shortest digits that round-trip, "1.0", "1e-05", "1e+16", "inf".
std::string PythonFloatRepr(double f);
// Python's repr of a str: quotes chosen as Python chooses them, with its escapes.
std::string PythonStringRepr(absl::string_view s);
// Unicode code points of UTF-8 `s` (ill-formed bytes count as one code point each).
std::vector<char32_t> DecodeUtf8(absl::string_view s);
void AppendUtf8(char32_t cp, std::string* out);
// Python's str.isspace() for one code point.
bool IsPythonSpace(char32_t cp);

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_VALUE_H_
