#include "core/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_classes.h"
#include "core/tokenizer/utf8.h"

namespace ember::tokenizer_internal {
namespace {

// Per-thread match scratch: one ovector pair is enough because only whole-match offsets are read
// (PCRE2 then returns 0 instead of the group count, which still means "matched").
struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;

  ThreadMatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    // Long runs of one character class (megabytes of spaces) need more than the default 32 KiB.
    jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

ThreadMatchState& MatchState() {
  thread_local ThreadMatchState state;
  return state;
}

std::string Pcre2ErrorMessage(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0)
    return absl::StrCat("error ", code);
  return std::string(reinterpret_cast<const char*>(buffer));
}

bool IsHexDigit(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }

// Class bodies that replace a property or shorthand, by Oniguruma property name; empty when PCRE2's
// own meaning is kept.
std::string WidenedPropertyBody(absl::string_view name) {
  if (name == "L" || name == "Letter") return LetterClassBody();
  if (name == "N" || name == "Number") return NumberClassBody();
  if (name == "Nd" || name == "Digit" || name == "Decimal_Number") return DecimalDigitClassBody();
  if (name == "Space" || name == "White_Space") return kWhiteSpaceClassBody;
  if (name == "Word") return OnigWordClassBody();
  return "";
}

// Emits a positive (negated = false) or negative class for `body`: inside a class the body is
// spliced in (only possible when positive), outside it is wrapped in brackets.
void EmitClass(const std::string& body, bool negated, bool in_class, absl::string_view fallback,
               std::string* out) {
  if (in_class) {
    if (negated) {
      out->append(fallback.data(), fallback.size());
    } else {
      out->append(body);
    }
    return;
  }
  absl::StrAppend(out, negated ? "[^" : "[", body, "]");
}

}  // namespace

absl::StatusOr<std::string> TranslateOnigurumaPattern(absl::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() * 2);
  bool in_class = false;
  size_t i = 0;
  const size_t n = pattern.size();
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported regex construct (", what,
                                                   ") at byte ", i, " of /", pattern, "/"));
  };
  while (i < n) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= n) return error("trailing backslash");
      const char e = pattern[i + 1];
      switch (e) {
        case 's':
        case 'S':
          out.append(e == 's' ? "\\p{White_Space}" : "\\P{White_Space}");
          i += 2;
          continue;
        case 'd':
        case 'D':
          EmitClass(DecimalDigitClassBody(), e == 'D', in_class, "\\P{Nd}", &out);
          i += 2;
          continue;
        case 'w':
        case 'W':
          EmitClass(OnigWordClassBody(), e == 'W', in_class, "\\W", &out);
          i += 2;
          continue;
        case 'h':
        case 'H':
          if (in_class && e == 'H') return error("\\H inside a character class");
          EmitClass("0-9a-fA-F", e == 'H', in_class, "", &out);
          i += 2;
          continue;
        case 'u':
          if (i + 5 < n && IsHexDigit(pattern[i + 2]) && IsHexDigit(pattern[i + 3]) &&
              IsHexDigit(pattern[i + 4]) && IsHexDigit(pattern[i + 5])) {
            absl::StrAppend(&out, "\\x{", pattern.substr(i + 2, 4), "}");
            i += 6;
            continue;
          }
          return error("\\u without four hex digits");
        case 'p':
        case 'P': {
          bool negated = e == 'P';
          std::string name;
          size_t next;
          if (i + 2 < n && pattern[i + 2] == '{') {
            const size_t close = pattern.find('}', i + 3);
            if (close == absl::string_view::npos) return error("unterminated \\p{");
            name = std::string(pattern.substr(i + 3, close - i - 3));
            next = close + 1;
          } else if (i + 2 < n) {
            name = std::string(1, pattern[i + 2]);
            next = i + 3;
          } else {
            return error("\\p without a property");
          }
          if (!name.empty() && name[0] == '^') {
            negated = !negated;
            name.erase(0, 1);
          }
          const std::string body = WidenedPropertyBody(name);
          if (body.empty()) {
            absl::StrAppend(&out, negated ? "\\P{" : "\\p{", name, "}");
          } else {
            EmitClass(body, negated, in_class, absl::StrCat("\\P{", name, "}"), &out);
          }
          i = next;
          continue;
        }
        default: {
          // Any other escape means the same in both dialects; copy it with its whole character.
          const size_t len = Utf8SequenceLength(static_cast<unsigned char>(e));
          absl::StrAppend(&out, pattern.substr(i, 1 + len));
          i += 1 + len;
          continue;
        }
      }
    }
    if (c == '[') {
      if (in_class) {
        if (i + 1 < n && pattern[i + 1] == ':') {
          const size_t close = pattern.find(":]", i + 2);
          if (close == absl::string_view::npos) return error("unterminated POSIX class");
          absl::StrAppend(&out, pattern.substr(i, close + 2 - i));
          i = close + 2;
          continue;
        }
        return error("nested character class");
      }
      in_class = true;
      out.push_back('[');
      ++i;
      if (i < n && pattern[i] == '^') {
        out.push_back('^');
        ++i;
      }
      if (i < n && pattern[i] == ']') {  // a leading ']' is a literal
        out.append("\\]");
        ++i;
      }
      continue;
    }
    if (in_class && c == ']') {
      in_class = false;
      out.push_back(']');
      ++i;
      continue;
    }
    if (in_class && c == '&' && i + 1 < n && pattern[i + 1] == '&') {
      return error("character class intersection &&");
    }
    if (!in_class && c == '(' && i + 1 < n && pattern[i + 1] == '?') {
      // Inline flags "(?imx-imx)" or "(?imx-imx:": Ruby's m is dotall, PCRE2's s.
      size_t j = i + 2;
      while (j < n &&
             (pattern[j] == 'i' || pattern[j] == 'm' || pattern[j] == 'x' || pattern[j] == '-')) {
        ++j;
      }
      if (j > i + 2 && j < n && (pattern[j] == ':' || pattern[j] == ')')) {
        out.append("(?");
        for (size_t k = i + 2; k < j; ++k) out.push_back(pattern[k] == 'm' ? 's' : pattern[k]);
        i = j;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  if (in_class) return error("unterminated character class");
  return out;
}

absl::StatusOr<std::unique_ptr<Regex>> Regex::FromOniguruma(absl::string_view pattern) {
  auto translated = TranslateOnigurumaPattern(pattern);
  if (!translated.ok()) return translated.status();
  auto regex = FromPcre2(*translated);
  if (!regex.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("regex /", pattern, "/: ", regex.status().message()));
  }
  return regex;
}

absl::StatusOr<std::unique_ptr<Regex>> Regex::FromPcre2(absl::string_view pattern) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("PCRE2 cannot compile /", pattern, "/ at byte ",
                                                   error_offset, ": ",
                                                   Pcre2ErrorMessage(error_code)));
  }
  // JIT is an optimisation: without it (e.g. an unsupported CPU) the interpreter is used.
  const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return std::unique_ptr<Regex>(new Regex(code, jit));
}

Regex::~Regex() { pcre2_code_free(code_); }

absl::Status Regex::FindAll(absl::string_view text, std::vector<MatchSpan>* out) const {
  return ForEachMatch(text, [out](const MatchSpan& m) {
    out->push_back(m);
    return absl::OkStatus();
  });
}

absl::Status Regex::ForEachMatch(absl::string_view text,
                                 absl::FunctionRef<absl::Status(const MatchSpan&)> fn) const {
  ThreadMatchState& state = MatchState();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t length = text.size();
  size_t pos = 0;
  bool have_previous = false;
  size_t previous_end = 0;
  while (pos <= length) {
    const int rc = jit_ ? pcre2_jit_match(code_, subject, length, pos, 0, state.data, state.context)
                        : pcre2_match(code_, subject, length, pos, PCRE2_NO_UTF_CHECK, state.data,
                                      state.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      const std::string message =
          absl::StrCat("regex match failed: ", Pcre2ErrorMessage(rc), " (at byte ", pos, ")");
      if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
          rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
          rc == PCRE2_ERROR_NOMEMORY) {
        return absl::ResourceExhaustedError(message);
      }
      return absl::InternalError(message);
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
    const MatchSpan match{ovector[0], ovector[1]};
    if (match.begin == match.end && have_previous && previous_end == match.end) {
      if (match.end >= length) break;
      pos = match.end + Utf8SequenceLength(static_cast<unsigned char>(text[match.end]));
      continue;
    }
    pos = match.end;
    previous_end = match.end;
    have_previous = true;
    // `fn` may run other regexes on this thread (nested pre-tokenizers), which reuse the match
    // data, so the offsets were copied out above.
    if (absl::Status s = fn(match); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool Regex::Contains(absl::string_view text) const {
  ThreadMatchState& state = MatchState();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const int rc = jit_
                     ? pcre2_jit_match(code_, subject, text.size(), 0, 0, state.data, state.context)
                     : pcre2_match(code_, subject, text.size(), 0, PCRE2_NO_UTF_CHECK, state.data,
                                   state.context);
  return rc >= 0;
}

}  // namespace ember::tokenizer_internal
