// LoadTokenizer: picks the loader for the tokenizer files a model directory ships.
#include "absl/strings/str_cat.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/marian_tokenizer.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/file_util.h"

namespace ember {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir) {
  // tokenizer.json first: when a directory has several files, it is the one transformers'
  // fast tokenizers read.
  const std::string tokenizer_json = JoinPath(model_dir, "tokenizer.json");
  if (FileExists(tokenizer_json)) return LoadHfTokenizerJsonFile(tokenizer_json);

  // MarianMT: source.spm + target.spm + vocab.json (its vocab.json is not GPT-2's).
  if (HasMarianTokenizerFiles(model_dir)) return LoadMarianTokenizer(model_dir);

  const std::string vocab_json = JoinPath(model_dir, "vocab.json");
  const std::string merges_txt = JoinPath(model_dir, "merges.txt");
  if (FileExists(vocab_json) && FileExists(merges_txt)) {
    return LoadGpt2VocabMerges(vocab_json, merges_txt);
  }

  const std::string sentencepiece_model = JoinPath(model_dir, "tokenizer.model");
  if (FileExists(sentencepiece_model)) return LoadSentencePieceTokenizer(sentencepiece_model);
  return absl::NotFoundError(
      absl::StrCat(model_dir,
                   ": no tokenizer.json, source.spm + target.spm + vocab.json, "
                   "vocab.json + merges.txt, or tokenizer.model"));
}

}  // namespace ember
