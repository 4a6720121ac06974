// Fuzzes loading a Hugging Face tokenizer.json (core/tokenizer/hf_tokenizer.h), then uses what
// loaded.
//
// Invariant: a rejected file gives INVALID_ARGUMENT starting with the file name; a loaded one
// keeps CheckLoadedTokenizer's invariants (ids inside the vocabulary, decodes are valid UTF-8).
#include <cstddef>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

namespace {
constexpr absl::string_view kName = "tokenizer.json";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  const auto tokenizer = ember::LoadHfTokenizerJson(json, kName);
  if (tokenizer.ok()) {
    ember::fuzz::CheckLoadedTokenizer(**tokenizer);
  } else {
    EMBER_FUZZ_CHECK(tokenizer.status().code() == absl::StatusCode::kInvalidArgument &&
                         absl::StartsWith(tokenizer.status().message(), kName),
                     "unexpected error: ", tokenizer.status().ToString());
  }
  return 0;
}
