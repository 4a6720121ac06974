// LoadGpt2VocabMerges: classic GPT-2 vocab.json + merges.txt -> HfBpeTokenizer configured like
// transformers' GPT2TokenizerFast (ByteLevel pre-tokenizer without prefix space, ByteLevel decoder,
// "<|endoftext|>" special).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/tokenizer/bpe_json.h"
#include "core/tokenizer/hf_bpe_tokenizer.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/util/file_util.h"

namespace ember {
namespace {

using tokenizer_internal::AddedToken;
using tokenizer_internal::BpeModel;
using tokenizer_internal::HfBpeParts;
using tokenizer_internal::HfBpeTokenizer;
using tokenizer_internal::JsonField;

constexpr char kEndOfText[] = "<|endoftext|>";

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseMergesText(
    absl::string_view text, absl::string_view name) {
  std::vector<std::pair<std::string, std::string>> merges;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (line.empty() || absl::StartsWith(line, "#version")) continue;
    std::pair<std::string, std::string> merge;
    if (!tokenizer_internal::SplitMergeLine(line, &merge)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": line ", line_number, ": \"", line,
                       "\" is not two tokens separated by one space"));
    }
    merges.push_back(std::move(merge));
  }
  return merges;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGpt2VocabMergesFromText(
    absl::string_view vocab_json, absl::string_view merges_txt, absl::string_view vocab_name,
    absl::string_view merges_name) {
  const std::string vocab_source(vocab_name);
  auto document = tokenizer_internal::ParseJsonDocument(vocab_json, vocab_source);
  if (!document.ok()) return document.status();
  auto vocab = tokenizer_internal::ParseBpeVocab(JsonField(&*document, vocab_source, ""));
  if (!vocab.ok()) return vocab.status();
  auto merges = ParseMergesText(merges_txt, merges_name);
  if (!merges.ok()) return merges.status();

  HfBpeParts parts;
  if (auto it = vocab->find(kEndOfText); it != vocab->end()) {
    AddedToken token;
    token.content = kEndOfText;
    token.id = it->second;
    token.special = true;
    token.normalized = false;
    parts.added_tokens.push_back(std::move(token));
  }
  auto model = BpeModel::Create(std::move(*vocab), *merges, {});
  if (!model.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(merges_name, ": ", model.status().message()));
  }
  parts.model = std::move(*model);
  auto pre_tokenizer = tokenizer_internal::MakeGpt2PreTokenizer();
  if (!pre_tokenizer.ok()) return pre_tokenizer.status();
  parts.pre_tokenizer = std::move(*pre_tokenizer);
  parts.decoder = tokenizer_internal::MakeByteLevelDecoder();
  auto tokenizer = HfBpeTokenizer::Create(std::move(parts));
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        absl::StrCat(vocab_source, ": ", tokenizer.status().message()));
  }
  return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGpt2VocabMerges(const std::string& vocab_path,
                                                               const std::string& merges_path) {
  auto vocab = ReadFileToString(vocab_path);
  if (!vocab.ok()) return vocab.status();
  auto merges = ReadFileToString(merges_path);
  if (!merges.ok()) return merges.status();
  return LoadGpt2VocabMergesFromText(*vocab, *merges, vocab_path, merges_path);
}

}  // namespace ember
