// Streaming detokenization: turns generated token ids into text pieces as soon as their text is
// final, so a server can send each piece the moment it exists.
//
// The contract: for any id sequence, the concatenation of every Push() result and the final
// Flush() equals tokenizer.Decode(all ids, skip_special_tokens). No piece ends inside a UTF-8
// sequence (every piece is valid UTF-8), and no piece contains a U+FFFD that a later token could
// still turn into a real character (e.g. the first bytes of an emoji split over several
// byte-level tokens are held back until the emoji is complete).
//
// How (the prefix/read-offset window of vLLM's and TGI's `detokenize_incrementally`): each Push
// decodes only a short window, "context tokens already emitted + tokens not yet emitted", and
// emits what the window's text adds beyond the context's text, so the cost per token does not grow
// with the length of the stream. Two additions make the contract hold exactly rather than usually:
//   * Once some text has been emitted, every window starts with an *anchor*: an ordinary token
//     with plain text such as "a". Decoders that treat the start of the text specially (the
//     SentencePiece / Metaspace / `Strip` rule that drops the first token's leading space) then
//     apply that rule to the anchor, never to a token in the middle of the stream.
//   * Nothing is emitted while the last token is a byte-fallback token (<0xNN>): Hugging Face
//     decodes a run of them as one unit (an invalid run becomes one U+FFFD per byte, including the
//     bytes of characters that were complete), so a run's text is final only once the run ends.
// With skip_special_tokens, special ids are dropped on arrival: Decode ignores them entirely.
//
// Assumes what holds for Hugging Face decoders (ByteLevel, Metaspace, ByteFallback, Fuse,
// Replace, Strip) and SentencePiece: decoding is prefix-stable apart from an incomplete UTF-8 tail
// and the start-of-text rule, and that rule only affects text up to the first character emitted.
//
// Not thread-safe: one decoder per stream. The tokenizer must outlive the decoder.
#ifndef EMBER_CORE_TOKENIZER_INCREMENTAL_DECODER_H_
#define EMBER_CORE_TOKENIZER_INCREMENTAL_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/tokenizer.h"

namespace ember {

class IncrementalDecoder {
 public:
  IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special_tokens);

  // Adds the next generated id and returns the text that became final ("" when none did yet).
  // INVALID_ARGUMENT, and the id is not added, when it is outside [0, tokenizer.VocabSize()).
  absl::StatusOr<std::string> Push(int32_t id);

  // The text still held back, at the end of the stream (may end with U+FFFD when the stream ends
  // inside a character, exactly as Decode does). Afterwards the decoder is empty and can start a
  // new stream.
  std::string Flush();

 private:
  // Decodes window_ and emits what it adds beyond prefix_text_, if that is final.
  absl::StatusOr<std::string> EmitFinalText();
  // After emitting: the tokens just emitted become the context of the next window.
  absl::Status StartNextWindow();
  bool IsByteFallbackToken(int32_t id) const;

  const Tokenizer& tokenizer_;
  const bool skip_special_tokens_;
  // The token every window starts with once text has been emitted (see above); nullopt when the
  // tokenizer has none, in which case windows start with context tokens only, as in vLLM.
  const std::optional<int32_t> anchor_;

  // [anchor] + context ids + ids not yet emitted.
  std::vector<int32_t> window_;
  // window_[0, read_offset_) is the context; its text is prefix_text_.
  size_t read_offset_ = 0;
  std::string prefix_text_;
  // Whether window_ starts with *anchor_ (true from the first emission on).
  bool anchored_ = false;
};

}  // namespace ember

#endif  // EMBER_CORE_TOKENIZER_INCREMENTAL_DECODER_H_
