#include "core/tokenizer/added_vocabulary.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode_classes.h"
#include "core/tokenizer/utf8.h"

namespace ember::tokenizer_internal {
namespace {

const Regex& WordCharRegex() {
  static const Regex* const regex = [] {
    auto compiled = Regex::FromPcre2(absl::StrCat("\\A[", RustWordClassBody(), "]\\z"));
    // The pattern is a constant; failing to compile it is a build defect.
    if (!compiled.ok()) std::abort();
    return compiled->release();
  }();
  return *regex;
}

// Byte offset where the last character of non-empty valid UTF-8 `text` starts.
size_t LastCharStart(absl::string_view text) {
  size_t start = text.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return start;
}

}  // namespace

bool EndsWithWordChar(absl::string_view text) {
  if (text.empty()) return false;
  return WordCharRegex().Contains(text.substr(LastCharStart(text)));
}

bool StartsWithWordChar(absl::string_view text) {
  if (text.empty()) return false;
  return WordCharRegex().Contains(
      text.substr(0, Utf8SequenceLength(static_cast<unsigned char>(text[0]))));
}

AddedTokenMatcher::AddedTokenMatcher(
    const std::vector<std::pair<std::string, const AddedToken*>>& entries) {
  root_next_.fill(-1);
  nodes_.emplace_back();
  for (const auto& [pattern, token] : entries) {
    if (pattern.empty()) continue;
    int32_t node = 0;
    for (char ch : pattern) {
      const auto byte = static_cast<unsigned char>(ch);
      int32_t child = Child(node, byte);
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        auto& next = nodes_[node].next;
        next.insert(std::lower_bound(next.begin(), next.end(), std::make_pair(byte, int32_t{0})),
                    {byte, child});
        if (node == 0) root_next_[byte] = child;
      }
      node = child;
    }
    // Two tokens with the same string cannot both match; the first one listed wins.
    if (nodes_[node].pattern < 0) {
      nodes_[node].pattern = static_cast<int32_t>(patterns_.size());
      patterns_.push_back(token);
    }
  }
}

int32_t AddedTokenMatcher::Child(int32_t node, unsigned char byte) const {
  if (node == 0) return root_next_[byte];
  const auto& next = nodes_[node].next;
  auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(byte, int32_t{0}));
  return it != next.end() && it->first == byte ? it->second : -1;
}

int32_t AddedTokenMatcher::LongestAt(absl::string_view text, size_t pos, size_t* end) const {
  int32_t found = -1;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    node = Child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    if (nodes_[node].pattern >= 0) {
      found = nodes_[node].pattern;
      *end = i + 1;
    }
  }
  return found;
}

void AddedTokenMatcher::Split(absl::string_view text, std::vector<TextSegment>* out) const {
  out->clear();
  size_t covered = 0;  // end of the last segment emitted
  size_t pos = 0;      // where the next search starts
  while (!patterns_.empty() && pos < text.size()) {
    size_t begin = pos;
    size_t end = 0;
    int32_t index = -1;
    for (; begin < text.size(); ++begin) {
      if (root_next_[static_cast<unsigned char>(text[begin])] < 0) continue;
      index = LongestAt(text, begin, &end);
      if (index >= 0) break;
    }
    if (index < 0) break;
    pos = end;
    const AddedToken& token = *patterns_[index];
    if (token.single_word) {
      const bool space_before = begin == 0 || !EndsWithWordChar(text.substr(0, begin));
      const bool space_after = end == text.size() || !StartsWithWordChar(text.substr(end));
      if (!space_before || !space_after) continue;
    }
    size_t start = begin;
    size_t stop = end;
    if (token.lstrip) {
      size_t s = begin;
      while (s > 0) {
        const size_t char_start = LastCharStart(text.substr(0, s));
        size_t len = 0;
        if (!IsUnicodeWhiteSpace(DecodeUtf8At(text, char_start, &len))) break;
        s = char_start;
      }
      // Spaces already inside the previous match are not taken again.
      start = std::max(s, covered);
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t len = 0;
        if (!IsUnicodeWhiteSpace(DecodeUtf8At(text, stop, &len))) break;
        stop += len;
      }
    }
    // Only reachable when an rstrip swallowed the start of the next match (a token beginning with
    // white space): tokenizers then emits overlapping segments, and so do we, but never inverted.
    start = std::min(start, stop);
    if (covered < start) out->push_back({covered, start, -1});
    out->push_back({start, stop, token.id});
    covered = stop;
  }
  if (covered != text.size() || out->empty()) out->push_back({covered, text.size(), -1});
}

}  // namespace ember::tokenizer_internal
