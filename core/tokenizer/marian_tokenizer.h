// The tokenizer of MarianMT models (transformers' MarianTokenizer): two SentencePiece models,
// source.spm segmenting the input language and target.spm joining the output, and one vocab.json
// mapping pieces to the model's ids (the SentencePiece ids themselves are not used).
//
// Semantics (docs/MARIAN.md):
//   * Encode: source.spm pieces, each mapped through vocab.json (a piece it lacks becomes <unk>);
//     with add_special_tokens, </s> is appended (no BOS). The special tokens' text (</s>, <unk>,
//     <pad>) inside the input is matched literally and becomes that id, as transformers' added
//     token matching does.
//   * Decode: ids to pieces through the inverse of vocab.json, joined by target.spm
//     (decode_pieces); special tokens are dropped with skip_special_tokens, else written as their
//     text followed by a space; leading and trailing whitespace is stripped, as MarianTokenizer's
//     convert_tokens_to_string does.
// Language-code prefixes of multilingual models (">>de<< ...") are not given special handling.
#ifndef EMBER_CORE_TOKENIZER_MARIAN_TOKENIZER_H_
#define EMBER_CORE_TOKENIZER_MARIAN_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/tokenizer/tokenizer.h"

namespace ember {

// True when `model_dir` holds the files of a Marian tokenizer (source.spm, target.spm, vocab.json).
bool HasMarianTokenizerFiles(const std::string& model_dir);

// Loads source.spm, target.spm and vocab.json from `model_dir`. INVALID_ARGUMENT naming the file
// for an unreadable SentencePiece model, a vocab.json that is not an object of non-negative
// unique integer ids, or one without "</s>" and "<unk>".
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadMarianTokenizer(const std::string& model_dir);

}  // namespace ember

#endif  // EMBER_CORE_TOKENIZER_MARIAN_TOKENIZER_H_
