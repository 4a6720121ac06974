// tokenizer.json pre-tokenizers: split normalized text into the pieces the BPE model encodes one at
// a time. Internal to core/tokenizer.
//
// Supported: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit,
// Punctuation, BertPreTokenizer. Others are rejected with "unsupported pre_tokenizer".
//
// Pieces flow depth-first through a Sequence (each piece is finished before the next is split),
// which gives the same pieces in the same order as tokenizers' breadth-first passes because every
// step works on one piece at a time, and it needs no per-input piece list.
#ifndef EMBER_CORE_TOKENIZER_PRE_TOKENIZER_H_
#define EMBER_CORE_TOKENIZER_PRE_TOKENIZER_H_

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/json_fields.h"

namespace ember::tokenizer_internal {

// A piece of normalized text. `at_input_start` is true when the piece begins at offset 0 of the
// original input (tokenizers' `offsets_original().0 == 0`), which Metaspace's "first" prepend
// scheme depends on. The view is only valid during the call it is passed to.
struct PreToken {
  absl::string_view text;
  bool at_input_start = false;
};

using PreTokenSink = absl::FunctionRef<absl::Status(const PreToken&)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits and/or rewrites `piece` and passes every non-empty result to `sink`, in order. Stops at
  // and returns the first error from `sink` or from a regex.
  virtual absl::Status Apply(const PreToken& piece, PreTokenSink sink) const = 0;
};

// Builds the pre-tokenizer `field` describes; null or missing gives nullptr (the whole normalized
// text is one piece).
absl::StatusOr<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const JsonField& field);

// The pre-tokenizer of classic GPT-2 files: ByteLevel with add_prefix_space false and the GPT-2
// regex.
absl::StatusOr<std::unique_ptr<PreTokenizer>> MakeGpt2PreTokenizer();

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_PRE_TOKENIZER_H_
