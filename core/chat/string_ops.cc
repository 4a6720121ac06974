#include "core/chat/string_ops.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ember::chat {
namespace {

bool IsAsciiAlpha(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); }
char Upper(char c) { return absl::ascii_toupper(static_cast<unsigned char>(c)); }
char Lower(char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); }

std::string FromCodePoints(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) AppendUtf8(cps[i], &out);
  return out;
}

}  // namespace

std::string PyStrip(absl::string_view s, const Value& chars, bool left, bool right) {
  std::vector<char32_t> cps = DecodeUtf8(s);
  std::vector<char32_t> set;
  const bool whitespace = chars.is_undefined() || chars.is_none();
  if (!whitespace) set = DecodeUtf8(chars.ToString());
  auto strip = [&](char32_t cp) {
    if (whitespace) return IsPythonSpace(cp);
    for (char32_t c : set) {
      if (c == cp) return true;
    }
    return false;
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip(cps[e - 1])) --e;
  }
  return FromCodePoints(cps, b, e);
}

std::string PyTitle(absl::string_view s) {
  std::string out(s);
  bool prev_cased = false;
  for (char& c : out) {
    if (IsAsciiAlpha(c)) {
      c = prev_cased ? Lower(c) : Upper(c);
      prev_cased = true;
    } else {
      prev_cased = static_cast<unsigned char>(c) >= 0x80 && prev_cased;
    }
  }
  return out;
}

std::string PyCapitalize(absl::string_view s) {
  std::string out = absl::AsciiStrToLower(s);
  if (!out.empty()) out[0] = Upper(out[0]);
  return out;
}

std::string JinjaTitle(absl::string_view s) {
  auto is_sep = [](char c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' ||
           absl::ascii_isspace(static_cast<unsigned char>(c));
  };
  std::string out(s);
  bool word_start = true;
  for (char& c : out) {
    if (is_sep(c)) {
      word_start = true;
      continue;
    }
    c = word_start ? Upper(c) : Lower(c);
    word_start = false;
  }
  return out;
}

absl::StatusOr<ValueList> PySplit(absl::string_view s, const Value& sep, int64_t maxsplit,
                                  bool from_right) {
  std::vector<std::string> parts;
  if (sep.is_undefined() || sep.is_none()) {
    std::vector<char32_t> cps = DecodeUtf8(s);
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && IsPythonSpace(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t j = i;
      while (j < cps.size() && !IsPythonSpace(cps[j])) ++j;
      words.emplace_back(i, j);
      i = j;
    }
    if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
      // The unsplit remainder keeps its inner whitespace (and, from the right, its leading run).
      const auto k = static_cast<size_t>(maxsplit);
      if (!from_right) {
        for (size_t w = 0; w < k; ++w)
          parts.push_back(FromCodePoints(cps, words[w].first, words[w].second));
        parts.push_back(FromCodePoints(cps, words[k].first, words.back().second));
      } else {
        size_t first_kept = words.size() - k;
        parts.push_back(FromCodePoints(cps, words[0].first, words[first_kept - 1].second));
        for (size_t w = first_kept; w < words.size(); ++w) {
          parts.push_back(FromCodePoints(cps, words[w].first, words[w].second));
        }
      }
    } else {
      for (const auto& [b, e] : words) parts.push_back(FromCodePoints(cps, b, e));
    }
  } else {
    const std::string& d = sep.str();
    if (d.empty()) return absl::InvalidArgumentError("split: empty separator");
    std::vector<size_t> cuts;
    for (size_t p = s.find(d); p != absl::string_view::npos; p = s.find(d, p + d.size()))
      cuts.push_back(p);
    if (maxsplit >= 0 && static_cast<int64_t>(cuts.size()) > maxsplit) {
      if (from_right) {
        // rsplit scans from the right: recompute non-overlapping matches from the end.
        cuts.clear();
        size_t end = s.size();
        while (static_cast<int64_t>(cuts.size()) < maxsplit && end >= d.size()) {
          size_t p = s.rfind(d, end - d.size());
          if (p == absl::string_view::npos) break;
          cuts.push_back(p);
          end = p;
        }
        std::reverse(cuts.begin(), cuts.end());
      } else {
        cuts.resize(static_cast<size_t>(maxsplit));
      }
    }
    size_t start = 0;
    for (size_t p : cuts) {
      parts.emplace_back(std::string(s.substr(start, p - start)));
      start = p + d.size();
    }
    parts.emplace_back(std::string(s.substr(start)));
  }
  ValueList out;
  for (std::string& p : parts) out.push_back(Value::String(std::move(p)));
  return out;
}

std::string PyReplace(absl::string_view s, absl::string_view old_s, absl::string_view new_s,
                      int64_t count) {
  std::string out;
  if (old_s.empty()) {
    std::vector<char32_t> cps = DecodeUtf8(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        absl::StrAppend(&out, new_s);
        ++done;
      }
      if (i < cps.size()) AppendUtf8(cps[i], &out);
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  for (size_t p = s.find(old_s); p != absl::string_view::npos && (count < 0 || done < count);
       p = s.find(old_s, start)) {
    absl::StrAppend(&out, s.substr(start, p - start));
    absl::StrAppend(&out, new_s);
    start = p + old_s.size();
    ++done;
  }
  absl::StrAppend(&out, s.substr(start));
  return out;
}

int64_t PyFindOrCount(absl::string_view s, absl::string_view sub, absl::string_view method) {
  auto cp_index = [&](size_t byte) {
    return static_cast<int64_t>(DecodeUtf8(s.substr(0, byte)).size());
  };
  if (method == "count") {
    if (sub.empty()) return static_cast<int64_t>(DecodeUtf8(s).size()) + 1;
    int64_t n = 0;
    for (size_t p = s.find(sub); p != absl::string_view::npos; p = s.find(sub, p + sub.size())) ++n;
    return n;
  }
  size_t p = method == "rfind" ? s.rfind(sub) : s.find(sub);
  return p == absl::string_view::npos ? -1 : cp_index(p);
}

absl::StatusOr<Value> PyFormat(absl::string_view fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      out.push_back('}');
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == absl::string_view::npos)
      return absl::InvalidArgumentError("format: single '{' encountered");
    absl::string_view field = fmt.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("format: unsupported replacement field '{", field, "}'"));
    }
    const Value* v = nullptr;
    size_t index;
    if (field.empty()) {
      index = auto_index++;
      if (index < args.args.size()) v = &args.args[index];
    } else if (absl::SimpleAtoi(field, &index)) {
      if (index < args.args.size()) v = &args.args[index];
    } else {
      for (const auto& [k, val] : args.kwargs) {
        if (k == field) v = &val;
      }
    }
    if (v == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("format: no argument for '{", field, "}'"));
    out += v->ToString();
    i = close;
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> PyPercentFormat(absl::string_view fmt, const ValueList& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (i + 1 >= fmt.size()) return absl::InvalidArgumentError("format: incomplete format");
    const char spec = fmt[++i];
    if (spec == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= args.size())
      return absl::InvalidArgumentError("format: not enough arguments for format string");
    const Value& v = args[next++];
    if (spec == 's') {
      out += v.ToString();
    } else if (spec == 'r') {
      out += v.Repr();
    } else if ((spec == 'd' || spec == 'i') && v.is_number()) {
      out += absl::StrCat(v.kind() == Value::Kind::kFloat ? static_cast<int64_t>(v.float_value())
                                                          : v.int_value());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("format: unsupported conversion '%", std::string(1, spec), "'"));
    }
  }
  if (next != args.size()) return absl::InvalidArgumentError("format: not all arguments converted");
  return Value::String(std::move(out));
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace ember::chat
