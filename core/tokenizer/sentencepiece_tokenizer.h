// The Tokenizer for a SentencePiece `tokenizer.model` (Llama 1/2, Mistral, T5, Gemma...), backed
// by libsentencepiece so that segmentation and normalization are SentencePiece's own.
//
// Semantics, chosen to match Hugging Face's use of these models (LlamaTokenizer / T5Tokenizer and
// the tokenizer.json that `transformers` converts them to):
//   * Special tokens are the model's control pieces (<s>, </s>, <pad>, <extra_id_0>...) and its
//     unknown piece (<unk>). Their text inside the input is matched literally (longest first) and
//     becomes that id; libsentencepiece itself never produces them. User-defined pieces are
//     ordinary tokens that libsentencepiece matches itself.
//   * The text between special tokens is encoded by libsentencepiece one segment at a time, so
//     every segment gets the model's dummy-prefix "▁" (Hugging Face's `legacy=True`, the default
//     of Llama 2's tokenizer_config.json, and what its tokenizer.json does).
//   * Encode(add_special_tokens=true) prepends BOS when the model defines one and appends EOS only
//     when it defines EOS but no BOS (T5). SentencePieceOptions overrides both.
//   * Decode: with skip_special_tokens, special ids are dropped and libsentencepiece decodes the
//     rest (byte-fallback runs become UTF-8, one U+FFFD per invalid byte; the first piece loses its
//     leading space). Without it, special tokens appear as their piece text and only a sequence
//     that *starts* with an ordinary piece loses that leading space: [<s>, ▁Hi] decodes to
//     "<s> Hi", as the tokenizer.json conversion does (the slow Python tokenizer gives "<s>Hi").
//     This keeps Decode prefix-stable, which incremental (streaming) decoding relies on.
#ifndef EMBER_CORE_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
#define EMBER_CORE_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/tokenizer.h"

namespace ember {

struct SentencePieceOptions {
  // Prepend BOS on Encode(add_special_tokens=true). Unset: when the model defines a BOS piece.
  // Setting it for a model without BOS is an error at load time.
  std::optional<bool> add_bos;
  // Append EOS on Encode(add_special_tokens=true). Unset: when the model defines EOS but no BOS.
  // Setting it for a model without EOS is an error at load time.
  std::optional<bool> add_eos;
};

// Loads a SentencePiece model file. NOT_FOUND when `path` does not exist; INVALID_ARGUMENT naming
// `path` when its bytes are not a SentencePiece model.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(
    const std::string& path, const SentencePieceOptions& options = {});

// The same from the model's bytes; `name` (a path or any label) names the model in errors.
absl::StatusOr<std::unique_ptr<Tokenizer>> SentencePieceTokenizerFromBytes(
    absl::string_view model_bytes, absl::string_view name,
    const SentencePieceOptions& options = {});

}  // namespace ember

#endif  // EMBER_CORE_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
