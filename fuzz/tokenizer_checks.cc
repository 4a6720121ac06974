#include "fuzz/tokenizer_checks.h"

#include <algorithm>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/fuzz_util.h"

namespace ember::fuzz {
namespace {

constexpr absl::string_view kProbe =
    "Hello  w\xC3\xB6rld, 12345! <s>x</s><unk><|endoftext|>\n\t\xF0\x9F\x98\x80 \xE4\xB8\xAD";

}  // namespace

void CheckDecodes(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  for (const bool skip : {false, true}) {
    const absl::StatusOr<std::string> text = tokenizer.Decode(ids, skip);
    EMBER_FUZZ_CHECK(text.ok(), "Decode of in-range ids: ", text.status().ToString());
    EMBER_FUZZ_CHECK(IsValidUtf8(*text), "Decode gave invalid UTF-8");
  }
}

void CheckLoadedTokenizer(const Tokenizer& tokenizer) {
  const int32_t vocab = tokenizer.VocabSize();
  EMBER_FUZZ_CHECK(vocab > 0, "loaded a tokenizer with vocabulary size ", vocab);
  for (const bool add_special : {false, true}) {
    const absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode(kProbe, add_special);
    if (!ids.ok()) continue;  // e.g. a character the vocabulary lacks and no unk token
    for (const int32_t id : *ids) {
      EMBER_FUZZ_CHECK(id >= 0 && id < vocab, "Encode gave id ", id, " outside [0, ", vocab, ")");
    }
    CheckDecodes(tokenizer, *ids);
  }
  std::vector<int32_t> some;
  for (int32_t id = 0; id < std::min(vocab, 64); ++id) some.push_back(id);
  some.push_back(vocab - 1);
  CheckDecodes(tokenizer, some);
  const int32_t past[] = {vocab};
  const absl::StatusOr<std::string> refused = tokenizer.Decode(past, false);
  EMBER_FUZZ_CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument, "Decode of id ",
                   vocab, ": ", refused.status().ToString());
}

}  // namespace ember::fuzz
