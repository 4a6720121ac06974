// Trains the tokenizer shipped with a generated model: a BPE vocabulary of exactly the model's
// vocab_size, learned deterministically from the embedded corpus, in one of three Hugging Face
// layouts.
//
// Synthetic padding: a few kilobytes of text yield a few hundred merges, enough for the tiny
// presets but far short of the 32000 / 50257 entries of the full-size presets. The remaining slots
// are filled with tokens spelled "<extra_N>" (N counting from 0). No merge produces them, so the
// tokenizer never emits them when encoding; they exist so that every embedding row has a token, and
// they decode to their literal text.
#ifndef EMBER_TOOLS_MAKE_MODEL_TOKENIZER_BUILDER_H_
#define EMBER_TOOLS_MAKE_MODEL_TOKENIZER_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::tools {

enum class TokenizerStyle {
  // GPT-2: byte-level BPE; ids 0-255 are the bytes in GPT-2's byte-to-unicode order, then merges,
  // then "<|endoftext|>" as the last id (BOS, EOS and UNK).
  kGpt2ByteLevel,
  // Qwen2: byte-level BPE with digits split one by one; the specials <|endoftext|>, <|im_start|>
  // and <|im_end|> are added tokens after the model vocabulary.
  kQwen2ByteLevel,
  // Llama 2: SentencePiece-style BPE; <unk>, <s>, </s> at 0-2, byte-fallback tokens <0x00>..<0xFF>
  // at 3-258, then merged pieces ("\u2581"-prefixed words), then the single characters.
  kLlamaSentencePiece,
};

struct AddedToken {
  int32_t id = 0;
  std::string content;
  // Whether the normalizer runs on the token before matching (GPT-2's <|endoftext|>: true).
  bool normalized = false;
};

struct TrainedTokenizer {
  TokenizerStyle style = TokenizerStyle::kLlamaSentencePiece;
  // The BPE model's vocabulary: vocab[id] is the token string.
  std::vector<std::string> vocab;
  // Merge rules in priority order.
  std::vector<std::pair<std::string, std::string>> merges;
  // Special tokens, all marked "special": true.
  std::vector<AddedToken> added_tokens;
  // How many vocabulary entries are merges' results and how many are synthetic padding.
  int64_t learned_tokens = 0;
  int64_t padding_tokens = 0;

  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  std::optional<int32_t> unk_id;
  std::optional<int32_t> pad_id;

  // vocab.size() plus added tokens outside it: the model's vocab_size.
  int64_t TotalSize() const;
  // The token string of a special id ("" when absent).
  std::string TokenText(std::optional<int32_t> id) const;
};

// Trains a tokenizer of exactly `total_size` tokens on `corpus` (paragraphs separated by '\n').
// INVALID_ARGUMENT when `total_size` cannot hold the style's fixed tokens (bytes, specials and,
// for kLlamaSentencePiece, the corpus's characters).
absl::StatusOr<TrainedTokenizer> BuildTokenizer(TokenizerStyle style, int64_t total_size,
                                                absl::string_view corpus);

// GPT-2's byte-to-unicode map: the printable byte ranges map to themselves, the other 68 bytes to
// U+0100 onwards. Returns the UTF-8 text of byte `b`'s character.
const std::string& ByteLevelChar(uint8_t b);
// The bytes in vocabulary order (printable ranges first, as GPT-2's vocab.json lists them).
const std::vector<uint8_t>& ByteLevelOrder();

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_TOKENIZER_BUILDER_H_
