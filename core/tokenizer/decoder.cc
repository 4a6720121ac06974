#include "core/tokenizer/decoder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pattern_json.h"
#include "core/tokenizer/utf8.h"
#include "core/util/status_macros.h"

namespace ember::tokenizer_internal {
namespace {

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    for (const auto& step : steps_) RETURN_IF_ERROR(step->DecodeChain(tokens));
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// Maps every character of each token back to its byte (a token with a character outside the
// byte alphabet, such as an added token, keeps its raw bytes), then decodes all bytes at once,
// lossily, into a single token.
class ByteLevelDecoder : public Decoder {
 public:
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    std::string bytes;
    for (const std::string& token : *tokens) {
      const size_t mark = bytes.size();
      bool mapped = true;
      for (size_t i = 0; i < token.size();) {
        size_t len = 0;
        const int b = ByteLevelDecodeChar(DecodeUtf8At(token, i, &len));
        if (b < 0) {
          mapped = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
        i += len;
      }
      if (!mapped) {
        bytes.resize(mark);
        bytes.append(token);
      }
    }
    tokens->assign(1, Utf8Lossy(bytes));
    return absl::OkStatus();
  }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte a "<0xNN>" token stands for, or -1. Like Rust's u8::from_str_radix, a leading '+' is
// accepted ("<0x+A>").
int ByteFallbackValue(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  if (token[3] == '+') return HexValue(token[4]);
  const int hi = HexValue(token[3]);
  const int lo = HexValue(token[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Runs of "<0xNN>" tokens become their UTF-8 text, or one U+FFFD per byte when the run is not
// valid UTF-8.
class ByteFallbackDecoder : public Decoder {
 public:
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens->size());
    std::string run;
    auto flush = [&] {
      if (run.empty()) return;
      if (FindInvalidUtf8(run) == absl::string_view::npos) {
        out.push_back(run);
      } else {
        for (size_t i = 0; i < run.size(); ++i) out.push_back("\xEF\xBF\xBD");
      }
      run.clear();
    };
    for (std::string& token : *tokens) {
      const int b = ByteFallbackValue(token);
      if (b >= 0) {
        run.push_back(static_cast<char>(b));
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    *tokens = std::move(out);
    return absl::OkStatus();
  }
};

class FuseDecoder : public Decoder {
 public:
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    tokens->assign(1, absl::StrJoin(*tokens, ""));
    return absl::OkStatus();
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character from each token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::string& token : *tokens) {
      size_t begin = 0;
      for (size_t n = 0; n < start_ && token.compare(begin, content_.size(), content_) == 0 &&
                         begin < token.size();
           ++n) {
        begin += content_.size();
      }
      size_t end = token.size();
      for (size_t n = 0; n < stop_ && end >= begin + content_.size() &&
                         token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++n) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
    return absl::OkStatus();
  }

 private:
  std::string content_;  // one character
  size_t start_;
  size_t stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<PatternSpan> spans;
    for (std::string& token : *tokens) {
      RETURN_IF_ERROR(pattern_.FindMatches(token, /*invert=*/false, &spans));
      std::string out;
      for (const PatternSpan& span : spans) {
        if (span.is_match) {
          out.append(content_);
        } else {
          out.append(token, span.begin, span.end - span.begin);
        }
      }
      token = std::move(out);
    }
    return absl::OkStatus();
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Turns the replacement character back into spaces; in the first token it is dropped instead
// unless the prepend scheme is "never".
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      (*tokens)[i] =
          absl::StrReplaceAll((*tokens)[i], {{replacement_, i == 0 && strip_first_ ? "" : " "}});
    }
    return absl::OkStatus();
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// subword-nmt style: the end-of-word suffix becomes a space, except in the last token.
class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  absl::Status DecodeChain(std::vector<std::string>* tokens) const override {
    if (suffix_.empty()) return absl::OkStatus();
    for (size_t i = 0; i < tokens->size(); ++i) {
      (*tokens)[i] =
          absl::StrReplaceAll((*tokens)[i], {{suffix_, i + 1 == tokens->size() ? "" : " "}});
    }
    return absl::OkStatus();
  }

 private:
  std::string suffix_;
};

absl::StatusOr<std::unique_ptr<Decoder>> ParseMetaspaceDecoder(const JsonField& field) {
  auto replacement = field["replacement"].String();
  if (!replacement.ok()) return replacement.status();
  if (replacement->empty() || CountCodePoints(*replacement) != 1) {
    return field["replacement"].Error("must be exactly one character");
  }
  bool strip_first = true;
  auto scheme = field["prepend_scheme"].OptionalString();
  if (!scheme.ok()) return scheme.status();
  if (scheme->has_value()) {
    if (**scheme != "always" && **scheme != "first" && **scheme != "never") {
      return field["prepend_scheme"].Error(absl::StrCat("unknown prepend_scheme \"", **scheme,
                                                        "\" (expected always, first or never)"));
    }
    strip_first = **scheme != "never";
  }
  const JsonField legacy = field["add_prefix_space"];
  if (!legacy.is_null()) {
    auto add_prefix_space = legacy.Bool();
    if (!add_prefix_space.ok()) return add_prefix_space.status();
    if (!*add_prefix_space && strip_first) {
      return legacy.Error("add_prefix_space does not match declared prepend_scheme");
    }
  }
  return std::unique_ptr<Decoder>(new MetaspaceDecoder(std::move(*replacement), strip_first));
}

}  // namespace

std::unique_ptr<Decoder> MakeByteLevelDecoder() {
  return std::unique_ptr<Decoder>(new ByteLevelDecoder());
}

absl::StatusOr<std::unique_ptr<Decoder>> ParseDecoder(const JsonField& field) {
  if (field.is_null()) return std::unique_ptr<Decoder>();
  RETURN_IF_ERROR(field.ExpectObject());
  auto type = field.Type();
  if (!type.ok()) return type.status();

  if (*type == "Sequence") {
    const JsonField list = field["decoders"];
    auto size = list.ArraySize();
    if (!size.ok()) return size.status();
    std::vector<std::unique_ptr<Decoder>> steps;
    for (size_t i = 0; i < *size; ++i) {
      auto step = ParseDecoder(list.At(i));
      if (!step.ok()) return step.status();
      if (*step == nullptr) return list.At(i).Error("null decoder inside a Sequence");
      steps.push_back(std::move(*step));
    }
    return std::unique_ptr<Decoder>(new SequenceDecoder(std::move(steps)));
  }
  if (*type == "ByteLevel") return MakeByteLevelDecoder();
  if (*type == "ByteFallback") return std::unique_ptr<Decoder>(new ByteFallbackDecoder());
  if (*type == "Fuse") return std::unique_ptr<Decoder>(new FuseDecoder());
  if (*type == "Strip") {
    auto content = field["content"].String();
    if (!content.ok()) return content.status();
    if (content->empty() || CountCodePoints(*content) != 1) {
      return field["content"].Error("must be exactly one character");
    }
    auto start = field["start"].IntOr(0);
    if (!start.ok()) return start.status();
    auto stop = field["stop"].IntOr(0);
    if (!stop.ok()) return stop.status();
    if (*start < 0 || *stop < 0) return field.Error("start and stop must not be negative");
    return std::unique_ptr<Decoder>(new StripDecoder(
        std::move(*content), static_cast<size_t>(*start), static_cast<size_t>(*stop)));
  }
  if (*type == "Replace") {
    auto pattern = ParsePattern(field["pattern"]);
    if (!pattern.ok()) return pattern.status();
    auto content = field["content"].String();
    if (!content.ok()) return content.status();
    return std::unique_ptr<Decoder>(new ReplaceDecoder(std::move(*pattern), std::move(*content)));
  }
  if (*type == "Metaspace") return ParseMetaspaceDecoder(field);
  if (*type == "BPEDecoder") {
    auto suffix = field["suffix"].OptionalString();
    if (!suffix.ok()) return suffix.status();
    return std::unique_ptr<Decoder>(new BpeDecoder(suffix->value_or("</w>")));
  }
  return field["type"].Error(absl::StrCat(
      "unsupported decoder \"", *type,
      "\" (supported: Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, "
      "BPEDecoder)"));
}

}  // namespace ember::tokenizer_internal
