// The real tokenizers the tokenize and detokenize targets run, loaded once from committed files:
// the project generator's GPT-2 (byte-level BPE) and Llama (SentencePiece-style BPE with byte
// fallback) tokenizer.json files under fuzz/data/, and the SentencePiece model the tokenizer tests
// use (tests/core/tokenizer/testdata/spm_bpe.model). (The generator's Qwen2 tokenizer needs an NFC
// normalizer, which ember does not load; it is a tokenizer_json seed instead.)
#ifndef EMBER_FUZZ_FIXED_TOKENIZERS_H_
#define EMBER_FUZZ_FIXED_TOKENIZERS_H_

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ember::fuzz {

struct FixedTokenizer {
  std::string name;
  std::unique_ptr<Tokenizer> tokenizer;
  // Decode(Encode(text)) == text for all valid UTF-8 text (byte-level BPE without a normalizer).
  bool lossless = false;
};

// Loaded on first use; abort()s naming the file when one cannot be loaded. Never empty.
const std::vector<FixedTokenizer>& FixedTokenizers();

}  // namespace ember::fuzz

#endif  // EMBER_FUZZ_FIXED_TOKENIZERS_H_
