#include "core/tokenizer/post_processor.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace ember::tokenizer_internal {
namespace {

// One element of a template: the encoded sequence itself, or fixed special-token ids.
struct TemplatePiece {
  bool is_sequence = false;
  std::vector<int32_t> ids;  // special-token ids when !is_sequence
  std::string field;         // for ReferencedIds
};

class TemplateProcessor : public PostProcessor {
 public:
  explicit TemplateProcessor(std::vector<TemplatePiece> pieces) : pieces_(std::move(pieces)) {}
  void Process(std::vector<int32_t>* ids) const override {
    std::vector<int32_t> out;
    for (const TemplatePiece& piece : pieces_) {
      if (piece.is_sequence) {
        out.insert(out.end(), ids->begin(), ids->end());
      } else {
        out.insert(out.end(), piece.ids.begin(), piece.ids.end());
      }
    }
    *ids = std::move(out);
  }
  void ReferencedIds(std::vector<std::pair<int32_t, std::string>>* ids) const override {
    for (const TemplatePiece& piece : pieces_) {
      for (int32_t id : piece.ids) ids->emplace_back(id, piece.field);
    }
  }

 private:
  std::vector<TemplatePiece> pieces_;
};

class NoOpProcessor : public PostProcessor {
 public:
  void Process(std::vector<int32_t>*) const override {}
  void ReferencedIds(std::vector<std::pair<int32_t, std::string>>*) const override {}
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps)
      : steps_(std::move(steps)) {}
  void Process(std::vector<int32_t>* ids) const override {
    for (const auto& step : steps_) step->Process(ids);
  }
  void ReferencedIds(std::vector<std::pair<int32_t, std::string>>* ids) const override {
    for (const auto& step : steps_) step->ReferencedIds(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

absl::StatusOr<int32_t> ReadId(const JsonField& field) {
  auto id = field.Int();
  if (!id.ok()) return id.status();
  if (*id < 0 || *id > std::numeric_limits<int32_t>::max()) {
    return field.Error(absl::StrCat("id ", *id, " is out of range"));
  }
  return static_cast<int32_t>(*id);
}

// A ["token", id] pair (BertProcessing / RobertaProcessing cls and sep).
absl::StatusOr<TemplatePiece> ReadTokenPair(const JsonField& field) {
  auto size = field.ArraySize();
  if (!size.ok()) return size.status();
  if (*size != 2) return field.Error("expected [\"token\", id]");
  if (auto token = field.At(0).String(); !token.ok()) return token.status();
  auto id = ReadId(field.At(1));
  if (!id.ok()) return id.status();
  TemplatePiece piece;
  piece.ids = {*id};
  piece.field = field.path();
  return piece;
}

absl::StatusOr<std::unique_ptr<PostProcessor>> ParseTemplate(const JsonField& field) {
  const JsonField special = field["special_tokens"];
  if (!special.is_null()) RETURN_IF_ERROR(special.ExpectObject());
  const JsonField single = field["single"];
  auto size = single.ArraySize();
  if (!size.ok()) return size.status();
  std::vector<TemplatePiece> pieces;
  for (size_t i = 0; i < *size; ++i) {
    const JsonField element = single.At(i);
    RETURN_IF_ERROR(element.ExpectObject());
    const JsonField sequence = element["Sequence"];
    const JsonField token = element["SpecialToken"];
    TemplatePiece piece;
    if (!sequence.missing()) {
      auto id = sequence["id"].String();
      if (!id.ok()) return id.status();
      if (*id != "A") {
        return sequence["id"].Error(
            absl::StrCat("the single-sequence template can only hold sequence A, not ", *id));
      }
      piece.is_sequence = true;
    } else if (!token.missing()) {
      auto name = token["id"].String();
      if (!name.ok()) return name.status();
      const JsonField entry = special[*name];
      if (entry.missing()) {
        return token["id"].Error(
            absl::StrCat("special token \"", *name, "\" is not in special_tokens"));
      }
      const JsonField ids = entry["ids"];
      auto count = ids.ArraySize();
      if (!count.ok()) return count.status();
      for (size_t k = 0; k < *count; ++k) {
        auto id = ReadId(ids.At(k));
        if (!id.ok()) return id.status();
        piece.ids.push_back(*id);
      }
      piece.field = ids.path();
    } else {
      return element.Error("expected a {\"Sequence\": ...} or {\"SpecialToken\": ...} piece");
    }
    pieces.push_back(std::move(piece));
  }
  return std::unique_ptr<PostProcessor>(new TemplateProcessor(std::move(pieces)));
}

// BertProcessing and RobertaProcessing both give [cls] A [sep] for one sequence.
absl::StatusOr<std::unique_ptr<PostProcessor>> ParseClsSep(const JsonField& field) {
  auto cls = ReadTokenPair(field["cls"]);
  if (!cls.ok()) return cls.status();
  auto sep = ReadTokenPair(field["sep"]);
  if (!sep.ok()) return sep.status();
  std::vector<TemplatePiece> pieces(3);
  pieces[0] = std::move(*cls);
  pieces[1].is_sequence = true;
  pieces[2] = std::move(*sep);
  return std::unique_ptr<PostProcessor>(new TemplateProcessor(std::move(pieces)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostProcessor>> ParsePostProcessor(const JsonField& field) {
  if (field.is_null()) return std::unique_ptr<PostProcessor>();
  RETURN_IF_ERROR(field.ExpectObject());
  auto type = field.Type();
  if (!type.ok()) return type.status();
  if (*type == "TemplateProcessing") return ParseTemplate(field);
  if (*type == "BertProcessing" || *type == "RobertaProcessing") return ParseClsSep(field);
  if (*type == "ByteLevel") return std::unique_ptr<PostProcessor>(new NoOpProcessor());
  if (*type == "Sequence") {
    const JsonField list = field["processors"];
    auto size = list.ArraySize();
    if (!size.ok()) return size.status();
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (size_t i = 0; i < *size; ++i) {
      auto step = ParsePostProcessor(list.At(i));
      if (!step.ok()) return step.status();
      if (*step == nullptr) return list.At(i).Error("null post_processor inside a Sequence");
      steps.push_back(std::move(*step));
    }
    return std::unique_ptr<PostProcessor>(new SequenceProcessor(std::move(steps)));
  }
  return field["type"].Error(absl::StrCat(
      "unsupported post_processor \"", *type,
      "\" (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, "
      "Sequence)"));
}

}  // namespace ember::tokenizer_internal
