// Added tokens (tokenizer.json "added_tokens"): literal strings matched in the text before the
// model sees it, with tokenizers' options lstrip, rstrip, single_word and normalized. Mirrors
// `tokenizers`' AddedVocabulary::find_matches (Aho-Corasick, leftmost-longest). Internal to
// core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_ADDED_VOCABULARY_H_
#define EMBER_CORE_TOKENIZER_ADDED_VOCABULARY_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace ember::tokenizer_internal {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  // Only match when not glued to word characters (Rust regex \w) on either side.
  bool single_word = false;
  // Also swallow the White_Space characters to the left / right of the match.
  bool lstrip = false;
  bool rstrip = false;
  // Match against normalized text (content normalized too) instead of the raw input.
  bool normalized = true;
  // Dropped by Decode(skip_special_tokens = true).
  bool special = false;
};

// A stretch [begin, end) of the searched text: an added token when id >= 0, else plain text.
struct TextSegment {
  size_t begin = 0;
  size_t end = 0;
  int32_t id = -1;
};

// Finds added tokens in text. Immutable after construction; safe to share between threads.
class AddedTokenMatcher {
 public:
  // Each entry pairs the string to look for (a token's content, or its normalized form) with the
  // token; entries with an empty string are ignored. The tokens must outlive the matcher.
  explicit AddedTokenMatcher(const std::vector<std::pair<std::string, const AddedToken*>>& entries);

  bool empty() const { return patterns_.empty(); }

  // Splits `text` into segments covering all of it, in order; with no match (or empty text) the
  // result is one plain segment. Matches are leftmost-longest and non-overlapping; a match refused
  // by single_word still consumes its span, as the Aho-Corasick iterator in tokenizers does.
  void Split(absl::string_view text, std::vector<TextSegment>* out) const;

 private:
  struct Node {
    int32_t pattern = -1;                                 // index into patterns_ ending here
    std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
  };
  int32_t Child(int32_t node, unsigned char byte) const;
  // The longest pattern starting at text[pos]: its index and end, or -1.
  int32_t LongestAt(absl::string_view text, size_t pos, size_t* end) const;

  std::vector<const AddedToken*> patterns_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::array<int32_t, 256> root_next_;
};

// tokenizers' single_word tests: whether `text` ends / starts with a Rust-regex word character.
bool EndsWithWordChar(absl::string_view text);
bool StartsWithWordChar(absl::string_view text);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_ADDED_VOCABULARY_H_
