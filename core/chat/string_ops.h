// Python str methods as chat templates call them (strip with a character set, split with and
// without a separator, replace with a count, title, format), counting code points where Python
// counts characters. Case mapping is ASCII-only: non-ASCII letters keep their case (Python would
// map them); no Hugging Face template we test changes the case of non-ASCII text. Pure; any thread.
#ifndef EMBER_CORE_CHAT_STRING_OPS_H_
#define EMBER_CORE_CHAT_STRING_OPS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/chat/builtins.h"
#include "core/chat/value.h"

namespace ember::chat {

// str.title(): a letter after a non-letter is upper-cased, every other letter lower-cased.
std::string PyTitle(absl::string_view s);
// str.capitalize(): the first character upper-cased, the rest lower-cased.
std::string PyCapitalize(absl::string_view s);
// jinja2's title filter: words split at runs of [-\s({\[<], each with word[0].upper() +
// word[1:].lower().
std::string JinjaTitle(absl::string_view s);
// str.split / str.rsplit; `sep` Undefined or None splits at whitespace runs.
absl::StatusOr<ValueList> PySplit(absl::string_view s, const Value& sep, int64_t maxsplit,
                                  bool from_right);
// str.replace(old, new, count); count < 0 replaces all.
std::string PyReplace(absl::string_view s, absl::string_view old_s, absl::string_view new_s,
                      int64_t count);
// str.find / rfind / index (-1 when missing) / count, in code points.
int64_t PyFindOrCount(absl::string_view s, absl::string_view sub, absl::string_view method);
// str.format(*args, **kwargs) with {}, {0}, {name} and {{ }}; format specs are refused.
absl::StatusOr<Value> PyFormat(absl::string_view fmt, const CallArgs& args);
// `fmt % args` for jinja2's format filter: %s, %d, %i, %r and %%.
absl::StatusOr<Value> PyPercentFormat(absl::string_view fmt, const ValueList& args);
// markupsafe.escape: & < > " ' as entities.
std::string HtmlEscape(absl::string_view s);

}  // namespace ember::chat

#endif  // EMBER_CORE_CHAT_STRING_OPS_H_
