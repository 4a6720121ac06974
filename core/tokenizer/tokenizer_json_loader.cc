// LoadHfTokenizerJson: tokenizer.json -> HfBpeTokenizer. Checks and dispatch live here; the
// components parse themselves (normalizer.cc, pre_tokenizer.cc, ...).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/bpe_json.h"
#include "core/tokenizer/hf_bpe_tokenizer.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/json_fields.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

using tokenizer_internal::BpeModel;
using tokenizer_internal::BpeOptions;
using tokenizer_internal::BpeVocab;
using tokenizer_internal::HfBpeParts;
using tokenizer_internal::HfBpeTokenizer;
using tokenizer_internal::JsonField;

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseMerges(
    const JsonField& field) {
  std::vector<std::pair<std::string, std::string>> merges;
  auto size = field.ArraySize();
  if (!size.ok()) return size.status();
  merges.reserve(*size);
  for (size_t i = 0; i < *size; ++i) {
    const JsonField entry = field.At(i);
    if (entry.json().is_string()) {
      const std::string& line = entry.json().get_ref<const std::string&>();
      // tokenizers drops "#version" lines from string merges, as from merges.txt.
      if (absl::StartsWith(line, "#version")) continue;
      std::pair<std::string, std::string> merge;
      if (!tokenizer_internal::SplitMergeLine(line, &merge)) {
        return entry.Error(
            absl::StrCat("merge \"", line, "\" is not two tokens separated by one space"));
      }
      merges.push_back(std::move(merge));
      continue;
    }
    auto parts = entry.ArraySize();
    if (!parts.ok() || *parts != 2) {
      return entry.Error(absl::StrCat("expected \"left right\" or [\"left\", \"right\"], got ",
                                      tokenizer_internal::DescribeJsonValue(entry.json())));
    }
    auto left = entry.At(0).String();
    if (!left.ok()) return left.status();
    auto right = entry.At(1).String();
    if (!right.ok()) return right.status();
    merges.emplace_back(std::move(*left), std::move(*right));
  }
  return merges;
}

absl::StatusOr<std::unique_ptr<BpeModel>> ParseBpeModel(const JsonField& model) {
  const JsonField type = model["type"];
  // Very old files have no model.type; tokenizers then recognises BPE by its fields.
  if (!type.is_null()) {
    auto name = type.String();
    if (!name.ok()) return name.status();
    if (*name != "BPE") {
      return type.Error(absl::StrCat("unsupported model type \"", *name,
                                     "\" (only BPE is supported here; SentencePiece .model files "
                                     "are loaded separately)"));
    }
  }
  const JsonField dropout = model["dropout"];
  if (!dropout.is_null() && !(dropout.json().is_number() && dropout.json().get<double>() == 0.0)) {
    return dropout.Error(absl::StrCat("BPE dropout is not supported (must be null), got ",
                                      tokenizer_internal::DescribeJsonValue(dropout.json())));
  }
  BpeOptions options;
  auto unk = model["unk_token"].OptionalString();
  if (!unk.ok()) return unk.status();
  options.unk_token = std::move(*unk);
  auto prefix = model["continuing_subword_prefix"].OptionalString();
  if (!prefix.ok()) return prefix.status();
  options.continuing_subword_prefix = std::move(*prefix);
  auto suffix = model["end_of_word_suffix"].OptionalString();
  if (!suffix.ok()) return suffix.status();
  options.end_of_word_suffix = std::move(*suffix);
  // Files written by tokenizers often carry "" here, which is the same as none.
  if (options.continuing_subword_prefix == "") options.continuing_subword_prefix.reset();
  if (options.end_of_word_suffix == "") options.end_of_word_suffix.reset();
  auto fuse_unk = model["fuse_unk"].BoolOr(false);
  if (!fuse_unk.ok()) return fuse_unk.status();
  options.fuse_unk = *fuse_unk;
  auto byte_fallback = model["byte_fallback"].BoolOr(false);
  if (!byte_fallback.ok()) return byte_fallback.status();
  options.byte_fallback = *byte_fallback;
  auto ignore_merges = model["ignore_merges"].BoolOr(false);
  if (!ignore_merges.ok()) return ignore_merges.status();
  options.ignore_merges = *ignore_merges;

  auto vocab = tokenizer_internal::ParseBpeVocab(model["vocab"]);
  if (!vocab.ok()) return vocab.status();
  std::vector<std::pair<std::string, std::string>> merges;
  if (!model["merges"].is_null()) {
    auto parsed = ParseMerges(model["merges"]);
    if (!parsed.ok()) return parsed.status();
    merges = std::move(*parsed);
  }
  auto bpe = BpeModel::Create(std::move(*vocab), merges, std::move(options));
  if (!bpe.ok()) {
    const bool about_unk = absl::StartsWith(bpe.status().message(), "unk_token");
    return (about_unk ? model["unk_token"] : model["merges"]).Error(bpe.status().message());
  }
  return bpe;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizerJson(absl::string_view json,
                                                               absl::string_view source_name) {
  const std::string source(source_name);
  auto document = tokenizer_internal::ParseJsonDocument(json, source);
  if (!document.ok()) return document.status();
  const JsonField root(&*document, source, "");
  RETURN_IF_ERROR(root.ExpectObject());
  const JsonField model = root["model"];
  if (model.is_null()) return model.Error("missing: a tokenizer.json needs a model");
  RETURN_IF_ERROR(model.ExpectObject());

  HfBpeParts parts;
  auto bpe = ParseBpeModel(model);
  if (!bpe.ok()) return bpe.status();
  parts.model = std::move(*bpe);
  auto added = tokenizer_internal::ParseAddedTokens(root["added_tokens"], parts.model->vocab());
  if (!added.ok()) return added.status();
  parts.added_tokens = std::move(*added);
  auto normalizer = tokenizer_internal::ParseNormalizer(root["normalizer"]);
  if (!normalizer.ok()) return normalizer.status();
  parts.normalizer = std::move(*normalizer);
  auto pre_tokenizer = tokenizer_internal::ParsePreTokenizer(root["pre_tokenizer"]);
  if (!pre_tokenizer.ok()) return pre_tokenizer.status();
  parts.pre_tokenizer = std::move(*pre_tokenizer);
  auto post_processor = tokenizer_internal::ParsePostProcessor(root["post_processor"]);
  if (!post_processor.ok()) return post_processor.status();
  parts.post_processor = std::move(*post_processor);
  auto decoder = tokenizer_internal::ParseDecoder(root["decoder"]);
  if (!decoder.ok()) return decoder.status();
  parts.decoder = std::move(*decoder);

  // Ids the post-processor inserts must exist, or encoding would produce ids no embedding has.
  std::vector<std::pair<int32_t, std::string>> referenced;
  if (parts.post_processor != nullptr) parts.post_processor->ReferencedIds(&referenced);
  auto tokenizer = HfBpeTokenizer::Create(std::move(parts));
  if (!tokenizer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", tokenizer.status().message()));
  }
  for (const auto& [id, field] : referenced) {
    if (!(*tokenizer)->HasToken(id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": ", field, ": id ", id, " is neither a model.vocab nor an added token id"));
    }
  }
  return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizerJsonFile(const std::string& path) {
  auto contents = ReadFileToString(path);
  if (!contents.ok()) return contents.status();
  return LoadHfTokenizerJson(*contents, path);
}

}  // namespace ember
