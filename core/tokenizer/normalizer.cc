#include "core/tokenizer/normalizer.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pattern_json.h"
#include "core/tokenizer/unicode_normalizer.h"
#include "core/tokenizer/utf8.h"

namespace ember::tokenizer_internal {
namespace {

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  absl::Status Normalize(std::string* text) const override {
    for (const auto& step : steps_) {
      if (absl::Status s = step->Normalize(text); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// Prepend leaves an empty string alone, as tokenizers does.
class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  absl::Status Normalize(std::string* text) const override {
    if (!text->empty()) text->insert(0, prefix_);
    return absl::OkStatus();
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  absl::Status Normalize(std::string* text) const override {
    std::string out;
    bool replaced = false;
    absl::Status status =
        pattern_.ForEachSpan(*text, /*invert=*/false, [&](const PatternSpan& span) {
          if (span.is_match) {
            if (!replaced) out.reserve(text->size() + text->size() / 4);
            replaced = true;
            out.append(content_);
          } else {
            out.append(*text, span.begin, span.end - span.begin);
          }
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
    if (replaced) *text = std::move(out);
    return absl::OkStatus();
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Strips White_Space characters (Rust's char::is_whitespace) from either end.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  absl::Status Normalize(std::string* text) const override {
    size_t begin = 0;
    size_t end = text->size();
    if (left_) {
      while (begin < end) {
        size_t len = 0;
        if (!IsUnicodeWhiteSpace(DecodeUtf8At(*text, begin, &len))) break;
        begin += len;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>((*text)[start]) & 0xC0) == 0x80) {
          --start;
        }
        size_t len = 0;
        if (!IsUnicodeWhiteSpace(DecodeUtf8At(*text, start, &len))) break;
        end = start;
      }
    }
    *text = text->substr(begin, end - begin);
    return absl::OkStatus();
  }

 private:
  bool left_;
  bool right_;
};

class ByteLevelNormalizer : public Normalizer {
 public:
  absl::Status Normalize(std::string* text) const override {
    std::string out;
    out.reserve(text->size() * 2);
    AppendByteLevelEncoded(*text, &out);
    *text = std::move(out);
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> ParseNormalizer(const JsonField& field) {
  if (field.is_null()) return std::unique_ptr<Normalizer>();
  if (absl::Status s = field.ExpectObject(); !s.ok()) return s;
  auto type = field.Type();
  if (!type.ok()) return type.status();

  if (*type == "Sequence") {
    const JsonField list = field["normalizers"];
    auto size = list.ArraySize();
    if (!size.ok()) return size.status();
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < *size; ++i) {
      auto step = ParseNormalizer(list.At(i));
      if (!step.ok()) return step.status();
      if (*step == nullptr) return list.At(i).Error("null normalizer inside a Sequence");
      steps.push_back(std::move(*step));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(steps)));
  }
  if (*type == "Prepend") {
    auto prefix = field["prepend"].String();
    if (!prefix.ok()) return prefix.status();
    return std::unique_ptr<Normalizer>(new PrependNormalizer(std::move(*prefix)));
  }
  if (*type == "Replace") {
    auto pattern = ParsePattern(field["pattern"]);
    if (!pattern.ok()) return pattern.status();
    auto content = field["content"].String();
    if (!content.ok()) return content.status();
    return std::unique_ptr<Normalizer>(
        new ReplaceNormalizer(std::move(*pattern), std::move(*content)));
  }
  if (*type == "Strip") {
    auto left = field["strip_left"].BoolOr(true);
    if (!left.ok()) return left.status();
    auto right = field["strip_right"].BoolOr(true);
    if (!right.ok()) return right.status();
    return std::unique_ptr<Normalizer>(new StripNormalizer(*left, *right));
  }
  if (*type == "ByteLevel") return std::unique_ptr<Normalizer>(new ByteLevelNormalizer());
  auto unicode = MakeUnicodeNormalizer(*type);
  if (!unicode.ok()) return field["type"].Error(std::string(unicode.status().message()));
  if (*unicode != nullptr) return std::move(*unicode);
  return field["type"].Error(
      absl::StrCat("unsupported normalizer \"", *type,
                   "\" (supported: Sequence, Prepend, Replace, Strip, ByteLevel, NFC, NFD, NFKC, "
                   "NFKD; case folding and BERT's normalizer are not available)"));
}

}  // namespace ember::tokenizer_internal
