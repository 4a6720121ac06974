// tokenizer.json decoders: turn the token strings of decoded ids back into text. Each step maps a
// token list to a new token list (tokenizers' `decode_chain`); the results are concatenated.
// Internal to core/tokenizer.
//
// Supported: Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, BPEDecoder.
// Others (WordPiece, CTC, ...) are rejected with "unsupported decoder".
#ifndef EMBER_CORE_TOKENIZER_DECODER_H_
#define EMBER_CORE_TOKENIZER_DECODER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/json_fields.h"

namespace ember::tokenizer_internal {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token list in place. Fails only if a regex hits a PCRE2 limit.
  virtual absl::Status DecodeChain(std::vector<std::string>* tokens) const = 0;
};

// Builds the decoder `field` describes; null or missing gives nullptr (tokens are joined with
// spaces, as tokenizers does without a decoder).
absl::StatusOr<std::unique_ptr<Decoder>> ParseDecoder(const JsonField& field);

// The ByteLevel decoder (used for classic GPT-2 files).
std::unique_ptr<Decoder> MakeByteLevelDecoder();

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_DECODER_H_
