// Fuzzes streaming detokenization as the engine does it: token ids -> IncrementalDecoder
// (core/tokenizer) -> StopMatcher (core/engine), with real tokenizers (fixed_tokenizers.h) whose
// byte-level and byte-fallback tokens split multi-byte characters.
//
// Input: byte 0 picks the tokenizer and skip_special_tokens; then up to three stop strings, each a
// length byte and that many bytes (kept when valid, non-empty UTF-8, as the server requires); the
// rest is token ids, two bytes each, taken modulo the vocabulary size.
//
// Invariant: every piece the decoder or the matcher emits is valid UTF-8; without a stop, the
// decoder's pieces plus its Flush are exactly Decode(all ids) and the matcher passes all of it
// through; the emitted text never contains a stop string; after a match, emitted text + the
// matched stop string is a prefix of the decoded text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/engine/stop_matcher.h"
#include "core/tokenizer/incremental_decoder.h"
#include "fuzz/fixed_tokenizers.h"
#include "fuzz/fuzz_util.h"

namespace ember {
namespace {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t left() const { return size_ - pos_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string Bytes(size_t n) {
    n = std::min(n, left());
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Run(Input& in) {
  const auto& tokenizers = fuzz::FixedTokenizers();
  const uint8_t mode = in.Byte();
  const fuzz::FixedTokenizer& fixed = tokenizers[(mode >> 1) % tokenizers.size()];
  const bool skip_special = (mode & 1) != 0;
  const Tokenizer& tokenizer = *fixed.tokenizer;

  std::vector<std::string> stops;
  const int num_stops = in.Byte() % 4;
  for (int i = 0; i < num_stops; ++i) {
    std::string stop = in.Bytes(in.Byte() % 9);
    if (!stop.empty() && fuzz::IsValidUtf8(stop)) stops.push_back(std::move(stop));
  }

  IncrementalDecoder decoder(tokenizer, skip_special);
  StopMatcher matcher(stops);
  std::vector<int32_t> ids;
  std::string decoded;  // every decoder piece, concatenated
  std::string emitted;  // every matcher output, concatenated
  StopMatcher::Result last;
  while (in.left() >= 2 && !last.stopped) {
    const int32_t id = static_cast<int32_t>((in.Byte() | (in.Byte() << 8)) % tokenizer.VocabSize());
    ids.push_back(id);
    const absl::StatusOr<std::string> piece = decoder.Push(id);
    EMBER_FUZZ_CHECK(piece.ok(), fixed.name, ": Push(", id, "): ", piece.status().ToString());
    EMBER_FUZZ_CHECK(fuzz::IsValidUtf8(*piece), fixed.name, ": decoder piece after id ", id,
                     " is invalid UTF-8");
    decoded += *piece;
    last = matcher.Push(*piece);
    EMBER_FUZZ_CHECK(fuzz::IsValidUtf8(last.text), fixed.name, ": matcher emitted invalid UTF-8");
    emitted += last.text;
  }
  if (!last.stopped) {
    // End of stream, as the engine finishes on EOS or length.
    const std::string tail = decoder.Flush();
    EMBER_FUZZ_CHECK(fuzz::IsValidUtf8(tail), fixed.name, ": Flush emitted invalid UTF-8");
    decoded += tail;
    last = matcher.Push(tail);
    EMBER_FUZZ_CHECK(fuzz::IsValidUtf8(last.text), fixed.name, ": matcher emitted invalid UTF-8");
    emitted += last.text;
    if (!last.stopped) {
      const std::string held = matcher.Flush();
      EMBER_FUZZ_CHECK(fuzz::IsValidUtf8(held), fixed.name, ": matcher Flush is invalid UTF-8");
      emitted += held;
      const absl::StatusOr<std::string> whole = tokenizer.Decode(ids, skip_special);
      EMBER_FUZZ_CHECK(whole.ok() && *whole == decoded, fixed.name,
                       ": streamed text differs from Decode of all ", ids.size(), " ids");
      EMBER_FUZZ_CHECK(emitted == decoded, fixed.name, ": matcher changed text without a stop");
    }
  }
  for (const std::string& stop : stops) {
    EMBER_FUZZ_CHECK(!absl::StrContains(emitted, stop), fixed.name,
                     ": emitted text contains a stop string");
  }
  if (last.stopped) {
    EMBER_FUZZ_CHECK(absl::StartsWith(decoded, emitted + last.matched), fixed.name,
                     ": emitted text + stop string is not a prefix of the decoded text");
  }
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ember::Input in(data, size);
  ember::Run(in);
  return 0;
}
