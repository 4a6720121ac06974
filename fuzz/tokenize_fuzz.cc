// Fuzzes Encode of arbitrary bytes, including invalid UTF-8, with real tokenizers
// (fixed_tokenizers.h). The first byte picks the tokenizer and add_special_tokens; the rest is the
// text.
//
// Invariant: text that is not valid UTF-8 is refused with INVALID_ARGUMENT (never tokenized);
// valid text encodes, every id is inside [0, VocabSize()), the ids decode to valid UTF-8, and for
// a lossless (byte-level, no normalizer) tokenizer they decode back to exactly the text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "fuzz/fixed_tokenizers.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& tokenizers = ember::fuzz::FixedTokenizers();
  const ember::fuzz::FixedTokenizer& fixed = tokenizers[(data[0] >> 1) % tokenizers.size()];
  const bool add_special_tokens = (data[0] & 1) != 0;
  const absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const ember::Tokenizer& tokenizer = *fixed.tokenizer;

  const absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode(text, add_special_tokens);
  if (!ember::fuzz::IsValidUtf8(text)) {
    EMBER_FUZZ_CHECK(!ids.ok() && ids.status().code() == absl::StatusCode::kInvalidArgument,
                     fixed.name, ": invalid UTF-8 gave ", ids.status().ToString());
    return 0;
  }
  EMBER_FUZZ_CHECK(ids.ok(), fixed.name, ": valid text refused: ", ids.status().ToString());
  const int32_t vocab = tokenizer.VocabSize();
  for (const int32_t id : *ids) {
    EMBER_FUZZ_CHECK(id >= 0 && id < vocab, fixed.name, ": id ", id, " outside [0, ", vocab, ")");
  }
  const absl::StatusOr<std::string> decoded = tokenizer.Decode(*ids, /*skip_special_tokens=*/false);
  EMBER_FUZZ_CHECK(decoded.ok(), fixed.name, ": Decode: ", decoded.status().ToString());
  EMBER_FUZZ_CHECK(ember::fuzz::IsValidUtf8(*decoded), fixed.name, ": decoded to invalid UTF-8");
  if (fixed.lossless && !add_special_tokens) {
    EMBER_FUZZ_CHECK(*decoded == text, fixed.name, ": round trip changed the text");
  }
  return 0;
}
