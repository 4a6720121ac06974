// tokenizer.json normalizers: string rewrites applied to each stretch of input text between added
// tokens, before pre-tokenization. Internal to core/tokenizer.
//
// Supported: Sequence, Prepend, Replace (String or Regex pattern; the content is inserted
// literally, as tokenizers 0.23 does), Strip, ByteLevel, and the Unicode forms NFC, NFD, NFKC,
// NFKD (on ICU, unicode_normalizer.h). Anything else (Lowercase, BertNormalizer, Precompiled, ...)
// is rejected with "unsupported normalizer".
#ifndef EMBER_CORE_TOKENIZER_NORMALIZER_H_
#define EMBER_CORE_TOKENIZER_NORMALIZER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/json_fields.h"

namespace ember::tokenizer_internal {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites *text (valid UTF-8) in place. Fails only if a regex hits a PCRE2 limit.
  virtual absl::Status Normalize(std::string* text) const = 0;
};

// Builds the normalizer described by `field`; a null or missing field gives nullptr (no
// normalization). Errors name the file and field.
absl::StatusOr<std::unique_ptr<Normalizer>> ParseNormalizer(const JsonField& field);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_NORMALIZER_H_
