#include "fuzz/fixed_tokenizers.h"

#include <utility>

#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "fuzz/fuzz_util.h"

namespace ember::fuzz {
namespace {

std::vector<FixedTokenizer> Load() {
  std::vector<FixedTokenizer> out;
  const auto add = [&out](std::string name, absl::StatusOr<std::unique_ptr<Tokenizer>> loaded,
                          bool lossless) {
    EMBER_FUZZ_CHECK(loaded.ok(), "fixed tokenizer ", name, ": ", loaded.status().ToString());
    out.push_back({std::move(name), *std::move(loaded), lossless});
  };
  for (const auto& [file, lossless] : {std::pair{"gpt2", true}, {"llama", false}}) {
    const std::string path = SourcePath(absl::StrCat("fuzz/data/", file, ".tokenizer.json"));
    add(path, LoadHfTokenizerJsonFile(path), lossless);
  }
  const std::string spm = SourcePath("tests/core/tokenizer/testdata/spm_bpe.model");
  add(spm, LoadSentencePieceTokenizer(spm), false);
  return out;
}

}  // namespace

const std::vector<FixedTokenizer>& FixedTokenizers() {
  static const std::vector<FixedTokenizer>* const tokenizers =
      new std::vector<FixedTokenizer>(Load());
  return *tokenizers;
}

}  // namespace ember::fuzz
