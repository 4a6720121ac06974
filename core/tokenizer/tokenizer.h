// The tokenizer interface the engine and server use, whatever file the model ships:
// tokenizer.json (Hugging Face `tokenizers`), vocab.json + merges.txt (classic GPT-2), or a
// SentencePiece tokenizer.model. Implementations are immutable after loading and safe to call from
// many threads at once.
#ifndef EMBER_CORE_TOKENIZER_TOKENIZER_H_
#define EMBER_CORE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ember {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Text -> ids exactly as Hugging Face `tokenizer(text, add_special_tokens=...)["input_ids"]`:
  // added and special tokens that appear literally in `text` are matched first; with
  // `add_special_tokens` the post-processor adds BOS/EOS as the file says. Text that is not valid
  // UTF-8 gives INVALID_ARGUMENT (ids are only produced for valid text).
  virtual absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                                      bool add_special_tokens) const = 0;

  // Ids -> text as Hugging Face `tokenizer.decode(ids, skip_special_tokens=...)`. Byte sequences
  // that are not valid UTF-8 decode to U+FFFD, as Hugging Face does. An id outside
  // [0, VocabSize()) gives INVALID_ARGUMENT naming the id.
  virtual absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                             bool skip_special_tokens) const = 0;

  // One more than the largest id the tokenizer can produce or decode (model vocab + added tokens).
  virtual int32_t VocabSize() const = 0;

  // The id of a token's exact vocabulary string (e.g. "<s>", "Ġthe"), if present.
  virtual std::optional<int32_t> TokenToId(absl::string_view token) const = 0;

  // The vocabulary string of an id ("" when out of range).
  virtual std::string IdToToken(int32_t id) const = 0;

  // True for special added tokens (those `skip_special_tokens` drops).
  virtual bool IsSpecial(int32_t id) const = 0;
};

// Loads the tokenizer a Hugging Face model directory ships, trying in order: tokenizer.json,
// source.spm + target.spm + vocab.json (MarianMT), vocab.json + merges.txt, tokenizer.model
// (SentencePiece). NOT_FOUND when none exists; any parse
// or validation error names the file and the offending field.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir);

}  // namespace ember

#endif  // EMBER_CORE_TOKENIZER_TOKENIZER_H_
