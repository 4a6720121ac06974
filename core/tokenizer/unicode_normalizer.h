// Unicode normalization forms (tokenizer.json's NFC, NFD, NFKC and NFKD normalizers) on ICU, which
// carries the Unicode tables ember does not. Qwen2's tokenizer.json, for one, applies NFC.
// Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_UNICODE_NORMALIZER_H_
#define EMBER_CORE_TOKENIZER_UNICODE_NORMALIZER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/normalizer.h"

namespace ember::tokenizer_internal {

// The normalizer for `form` ("NFC", "NFD", "NFKC" or "NFKD"); nullptr for any other name.
// INTERNAL if ICU cannot load its data.
absl::StatusOr<std::unique_ptr<Normalizer>> MakeUnicodeNormalizer(absl::string_view form);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_UNICODE_NORMALIZER_H_
