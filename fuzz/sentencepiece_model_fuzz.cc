// Fuzzes loading a SentencePiece model from its bytes (core/tokenizer/sentencepiece_tokenizer.h,
// libsentencepiece behind the dlmopen() shim), then uses what loaded.
//
// Invariant: a rejected model gives INVALID_ARGUMENT starting with its name; a loaded one keeps
// CheckLoadedTokenizer's invariants (ids inside the vocabulary, decodes are valid UTF-8).
#include <cstddef>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

namespace {
constexpr absl::string_view kName = "tokenizer.model";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto tokenizer = ember::SentencePieceTokenizerFromBytes(bytes, kName);
  if (tokenizer.ok()) {
    ember::fuzz::CheckLoadedTokenizer(**tokenizer);
  } else {
    EMBER_FUZZ_CHECK(tokenizer.status().code() == absl::StatusCode::kInvalidArgument &&
                         absl::StartsWith(tokenizer.status().message(), kName),
                     "unexpected error: ", tokenizer.status().ToString());
  }
  return 0;
}
