// Jinja filters, tests, Python methods of str/dict/list, and the globals transformers defines
// (raise_exception, strftime_now) plus jinja2's namespace and range: each with Python's result for
// the values chat templates pass. The parser asks IsSupportedFilter / IsSupportedTest so unknown
// names are refused when a template loads, not when a request renders. Pure functions; any thread.
#ifndef EMBER_CORE_CHAT_BUILTINS_H_
#define EMBER_CORE_CHAT_BUILTINS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/chat/value.h"

namespace ember::chat {

// Positional and keyword arguments of one call.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
  // The i-th positional argument, else the keyword `name`, else Undefined.
  const Value& Get(size_t i, absl::string_view name) const;
};

bool IsSupportedFilter(absl::string_view name);
bool IsSupportedTest(absl::string_view name);

absl::StatusOr<Value> ApplyFilter(absl::string_view name, const Value& input, const CallArgs& args);
absl::StatusOr<bool> ApplyTest(absl::string_view name, const Value& input, const CallArgs& args);
// `object.name(args)`: str, dict and list methods. Unknown methods fail as calling Undefined does.
absl::StatusOr<Value> CallMethod(const Value& object, absl::string_view name, const CallArgs& args);
// Globals that are callables: namespace, range, raise_exception, strftime_now. Returns nullopt-like
// NOT_FOUND when `name` is none of them.
absl::StatusOr<Value> CallGlobal(absl::string_view name, const CallArgs& args);
bool IsGlobalFunction(absl::string_view name);

// jinja2's environment.getattr / getitem: attribute or key, Undefined when missing. Fails (as
// jinja2's UndefinedError) when `object` is itself Undefined.
absl::StatusOr<Value> GetAttr(const Value& object, absl::string_view name);
absl::StatusOr<Value> GetItem(const Value& object, const Value& key);
// Python slicing object[start:stop:step] of a str, list or tuple; Undefined parts are None.
absl::StatusOr<Value> Slice(const Value& object, const Value& start, const Value& stop,
                            const Value& step);
// The items iteration yields: list elements, dict keys, string characters. Undefined yields none.
absl::StatusOr<ValueList> Iterate(const Value& v);
// Python `needle in haystack`.
absl::StatusOr<bool> Contains(const Value& haystack, const Value& needle);
// Python len() as jinja2's length filter computes it (code points for str).
absl::StatusOr<int64_t> Length(const Value& v);
// Python str.strip/lstrip/rstrip: `chars` Undefined or None means whitespace.
std::string PyStrip(absl::string_view s, const Value& chars, bool left, bool right);

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_BUILTINS_H_
