#include "core/chat/lexer.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/chat/value.h"

namespace ember::chat {
namespace {

absl::Status SyntaxError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("chat template syntax error at line ", line, ": ", what));
}

// Length of the UTF-8 sequence at s[i] (1 for a stray byte) and its code point.
size_t CodePointAt(absl::string_view s, size_t i, char32_t* cp) {
  std::vector<char32_t> one = DecodeUtf8(s.substr(i, std::min<size_t>(4, s.size() - i)));
  *cp = one.empty() ? 0 : one[0];
  if (*cp < 0x80) return 1;
  if (*cp < 0x800) return 2;
  if (*cp < 0x10000) return 3;
  return one.size() == 1 || *cp >= 0x10000 ? 4 : 1;
}

// End of the run of Python whitespace starting at `pos` (regex \s*).
size_t SkipSpace(absl::string_view s, size_t pos) {
  while (pos < s.size()) {
    char32_t cp;
    size_t len = CodePointAt(s, pos, &cp);
    if (!IsPythonSpace(cp)) break;
    pos += len;
  }
  return pos;
}

// Start of the trailing run of Python whitespace of `s` (str.rstrip()).
size_t TrailingSpaceStart(absl::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80 && end - start < 4) {
      --start;
    }
    char32_t cp;
    CodePointAt(s, start, &cp);
    if (!IsPythonSpace(cp)) break;
    end = start;
  }
  return end;
}

bool AllSpace(absl::string_view s) { return !s.empty() && SkipSpace(s, 0) == s.size(); }

int CountNewlines(absl::string_view s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Decodes a Jinja string literal body the way jinja2 does (Python's unicode-escape codec).
std::string Unescape(absl::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    auto hex = [&](size_t n) -> bool {
      char32_t cp = 0;
      for (size_t k = 1; k <= n; ++k) {
        if (i + k >= body.size() ||
            !absl::ascii_isxdigit(static_cast<unsigned char>(body[i + k]))) {
          return false;
        }
        char h = body[i + k];
        cp = cp * 16 + static_cast<char32_t>(
                           absl::ascii_isdigit(static_cast<unsigned char>(h))
                               ? h - '0'
                               : absl::ascii_tolower(static_cast<unsigned char>(h)) - 'a' + 10);
      }
      AppendUtf8(cp, &out);
      i += n;
      return true;
    };
    switch (e) {
      case '\n':
        break;
      case '\\':
      case '\'':
      case '"':
        out.push_back(e);
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        if (!hex(2)) out += "\\x";
        break;
      case 'u':
        if (!hex(4)) out += "\\u";
        break;
      case 'U':
        if (!hex(8)) out += "\\U";
        break;
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = static_cast<char32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
               ++k) {
            cp = cp * 8 + static_cast<char32_t>(body[++i] - '0');
          }
          AppendUtf8(cp, &out);
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  absl::StatusOr<std::vector<Token>> Run() {
    while (pos_ < src_.size()) {
      size_t tag = src_.find('{', pos_);
      while (tag != std::string::npos && tag + 1 < src_.size() && src_[tag + 1] != '{' &&
             src_[tag + 1] != '%' && src_[tag + 1] != '#') {
        tag = src_.find('{', tag + 1);
      }
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        Emit(TokenType::kText, src_.substr(pos_));
        break;
      }
      const char kind = src_[tag + 1];
      const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+')
                            ? src_[tag + 2]
                            : '\0';
      size_t raw_end = kind == '%' ? MatchRawBegin(tag) : 0;
      EmitText(absl::string_view(src_).substr(pos_, tag - pos_), sign, kind != '{');
      pos_ = tag + 2 + (sign ? 1 : 0);
      if (raw_end != 0) {
        pos_ = raw_end;
        if (absl::Status s = LexRawBody(); !s.ok()) return s;
      } else if (kind == '#') {
        if (absl::Status s = LexComment(); !s.ok()) return s;
      } else {
        if (absl::Status s = LexTag(kind == '%'); !s.ok()) return s;
      }
    }
    tokens_.push_back(Token{TokenType::kEof, "", line_});
    return std::move(tokens_);
  }

 private:
  void Emit(TokenType type, std::string value) {
    int line = line_;
    line_ += CountNewlines(value);
    tokens_.push_back(Token{type, std::move(value), line});
  }

  // Text before a tag, with `{%-` stripping or lstrip_blocks applied (jinja2's OptionalLStrip).
  void EmitText(absl::string_view text, char sign, bool lstrip_applies) {
    const int newlines = CountNewlines(text);
    if (sign == '-') {
      text = text.substr(0, TrailingSpaceStart(text));
    } else if (sign != '+' && lstrip_applies) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == absl::string_view::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && AllSpace(text.substr(l_pos)))
        text = text.substr(0, l_pos);
    }
    if (!text.empty()) tokens_.push_back(Token{TokenType::kText, std::string(text), line_});
    line_ += newlines;
  }

  // `{%[-+]?\s*raw\s*(-%}\s*|%})` at `tag`: the position after it, or 0.
  size_t MatchRawBegin(size_t tag) {
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = SkipSpace(src_, p);
    if (src_.compare(p, 3, "raw") != 0) return 0;
    p = SkipSpace(src_, p + 3);
    if (src_.compare(p, 3, "-%}") == 0) return SkipSpace(src_, p + 3);
    if (src_.compare(p, 2, "%}") == 0) return p + 2;
    return 0;
  }

  absl::Status LexRawBody() {
    line_starting_ = src_[pos_ - 1] == '\n';
    for (size_t p = src_.find("{%", pos_); p != std::string::npos; p = src_.find("{%", p + 1)) {
      size_t q = p + 2;
      char sign = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q] : '\0';
      if (sign) ++q;
      q = SkipSpace(src_, q);
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q = SkipSpace(src_, q + 6);
      size_t end;
      if (src_.compare(q, 3, "+%}") == 0) {
        end = q + 3;
      } else if (src_.compare(q, 3, "-%}") == 0) {
        end = SkipSpace(src_, q + 3);
      } else if (src_.compare(q, 2, "%}") == 0) {
        end = q + 2 + (q + 2 < src_.size() && src_[q + 2] == '\n' ? 1 : 0);
      } else {
        continue;
      }
      EmitText(absl::string_view(src_).substr(pos_, p - pos_), sign, true);
      line_ += CountNewlines(absl::string_view(src_).substr(p, end - p));
      pos_ = end;
      line_starting_ = src_[end - 1] == '\n';
      return absl::OkStatus();
    }
    return SyntaxError(line_, "Missing end of raw directive");
  }

  absl::Status LexComment() {
    for (size_t p = src_.find("#}", pos_); p != std::string::npos; p = src_.find("#}", p + 1)) {
      size_t end;
      if (p > pos_ && src_[p - 1] == '-') {
        end = SkipSpace(src_, p + 2);
      } else if (p > pos_ && src_[p - 1] == '+') {
        end = p + 2;
      } else {
        end = p + 2 + (p + 2 < src_.size() && src_[p + 2] == '\n' ? 1 : 0);
      }
      line_ += CountNewlines(absl::string_view(src_).substr(pos_, end - pos_));
      pos_ = end;
      line_starting_ = src_[end - 1] == '\n';
      return absl::OkStatus();
    }
    return SyntaxError(line_, "Missing end of comment tag");
  }

  // Tokens up to the closing `%}` or `}}`; brackets must balance before a closing tag counts.
  absl::Status LexTag(bool block) {
    Emit(block ? TokenType::kBlockBegin : TokenType::kVarBegin, block ? "{%" : "{{");
    std::vector<char> balance;
    const char close = block ? '%' : '}';
    while (true) {
      size_t ws_end = SkipSpace(src_, pos_);
      line_ += CountNewlines(absl::string_view(src_).substr(pos_, ws_end - pos_));
      pos_ = ws_end;
      if (pos_ >= src_.size()) {
        return SyntaxError(line_, block ? "unexpected end of template, expected '%}'"
                                        : "unexpected end of template, expected '}}'");
      }
      absl::string_view rest = absl::string_view(src_).substr(pos_);
      if (balance.empty()) {
        const std::string end2 = std::string(1, close) + "}";
        size_t end = 0;
        if (block && absl::StartsWith(rest, "+%}")) {
          end = pos_ + 3;
        } else if (rest.size() >= 3 && rest[0] == '-' && rest.substr(1, 2) == end2) {
          end = SkipSpace(src_, pos_ + 3);
        } else if (rest.substr(0, 2) == end2) {
          end = pos_ + 2 + (block && pos_ + 2 < src_.size() && src_[pos_ + 2] == '\n' ? 1 : 0);
        }
        if (end != 0) {
          Emit(block ? TokenType::kBlockEnd : TokenType::kVarEnd, block ? "%}" : "}}");
          line_ += CountNewlines(absl::string_view(src_).substr(pos_, end - pos_));
          pos_ = end;
          line_starting_ = src_[end - 1] == '\n';
          return absl::OkStatus();
        }
      }
      const char c = rest[0];
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        LexNumber();
      } else if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t n = 1;
        while (n < rest.size() &&
               (absl::ascii_isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) {
          ++n;
        }
        Emit(TokenType::kName, std::string(rest.substr(0, n)));
        pos_ += n;
      } else if (c == '\'' || c == '"') {
        size_t n = 1;
        while (n < rest.size() && rest[n] != c) n += rest[n] == '\\' ? 2 : 1;
        if (n >= rest.size()) return SyntaxError(line_, "unexpected end of string literal");
        int line = line_;
        tokens_.push_back(Token{TokenType::kString, Unescape(rest.substr(1, n - 1)), line});
        line_ += CountNewlines(rest.substr(0, n));
        pos_ += n + 1;
      } else {
        static constexpr absl::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
        size_t n = 0;
        for (absl::string_view op : kTwo) {
          if (absl::StartsWith(rest, op)) n = 2;
        }
        if (n == 0 &&
            absl::string_view("+-/*%~[](){}><=.:|,;").find(c) != absl::string_view::npos) {
          n = 1;
        }
        if (n == 0)
          return SyntaxError(line_, absl::StrCat("unexpected char '", std::string(1, c), "'"));
        if (c == '(' || c == '[' || c == '{') {
          balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        } else if (c == ')' || c == ']' || c == '}') {
          if (balance.empty())
            return SyntaxError(line_, absl::StrCat("unexpected '", std::string(1, c), "'"));
          if (balance.back() != c) {
            return SyntaxError(line_,
                               absl::StrCat("unexpected '", std::string(1, c), "', expected '",
                                            std::string(1, balance.back()), "'"));
          }
          balance.pop_back();
        }
        Emit(TokenType::kOperator, std::string(rest.substr(0, n)));
        pos_ += n;
      }
    }
  }

  // jinja2's integer and float rules (underscores allowed between digits).
  void LexNumber() {
    auto digits = [&](size_t p) {
      size_t q = p;
      while (q < src_.size() && (absl::ascii_isdigit(static_cast<unsigned char>(src_[q])) ||
                                 (src_[q] == '_' && q > p && q + 1 < src_.size() &&
                                  absl::ascii_isdigit(static_cast<unsigned char>(src_[q + 1]))))) {
        ++q;
      }
      return q;
    };
    size_t p = digits(pos_);
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' &&
        absl::ascii_isdigit(static_cast<unsigned char>(src_[p + 1]))) {
      p = digits(p + 1);
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && absl::ascii_isdigit(static_cast<unsigned char>(src_[q]))) {
        p = digits(q);
        is_float = true;
      }
    }
    std::string text = src_.substr(pos_, p - pos_);
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    Emit(is_float ? TokenType::kFloat : TokenType::kInt, std::move(text));
    pos_ = p;
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

absl::StatusOr<std::vector<Token>> Lex(absl::string_view source) {
  // Newlines become "\n" and one trailing newline is dropped (keep_trailing_newline=False).
  std::string normalized;
  normalized.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      normalized.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      normalized.push_back(source[i]);
    }
  }
  if (!normalized.empty() && normalized.back() == '\n') normalized.pop_back();
  return Lexer(std::move(normalized)).Run();
}

}  // namespace ember::chat
