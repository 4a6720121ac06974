#include "tools/make_model/tokenizer_builder.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/make_model/bpe_trainer.h"

namespace ember::tools {
namespace {

constexpr char kSpaceMark[] = "\xE2\x96\x81";  // U+2581, SentencePiece's word-boundary mark

// UTF-8 encoding of one code point (< U+0800 is all GPT-2's map needs, but be general).
std::string Utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

struct ByteLevelTables {
  std::vector<std::string> chars = std::vector<std::string>(256);
  std::vector<uint8_t> order;
};

// GPT-2's bytes_to_unicode(): printable bytes keep their code point, the rest take U+0100 + n in
// byte order; the vocabulary lists the printable ones first.
const ByteLevelTables& Tables() {
  static const ByteLevelTables* tables = [] {
    auto* t = new ByteLevelTables;
    const auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    for (int b = 0; b < 256; ++b) {
      if (printable(b)) t->order.push_back(static_cast<uint8_t>(b));
    }
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      if (printable(b)) {
        t->chars[b] = Utf8(static_cast<uint32_t>(b));
      } else {
        t->order.push_back(static_cast<uint8_t>(b));
        t->chars[b] = Utf8(next++);
      }
    }
    return t;
  }();
  return *tables;
}

bool IsLetter(unsigned char c) { return std::isalpha(c) || c >= 0x80; }  // UTF-8 letters too
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// An ASCII rendition of GPT-2's pre-tokenizer regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (Qwen2's differs mainly in taking digits one at a time: `split_digits`). It only shapes which
// merges training finds; encoding uses the real regex inside the tokenizer library.
std::vector<std::string> PreTokenize(absl::string_view text, bool split_digits) {
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = text.size();
  const auto run = [&](size_t from, auto pred) {
    while (from < n && pred(static_cast<unsigned char>(text[from]))) ++from;
    return from;
  };
  while (i < n) {
    if (text[i] == '\'') {
      bool matched = false;
      for (absl::string_view c : {"s", "t", "re", "ve", "m", "ll", "d"}) {
        if (text.substr(i + 1, c.size()) == c) {
          out.emplace_back(text.substr(i, 1 + c.size()));
          i += 1 + c.size();
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    const size_t start = i;
    size_t j = i;
    if (text[j] == ' ' && j + 1 < n && !IsSpace(static_cast<unsigned char>(text[j + 1]))) ++j;
    const auto c = static_cast<unsigned char>(text[j]);
    size_t end;
    if (IsLetter(c)) {
      end = run(j, IsLetter);
    } else if (IsDigit(c)) {
      end = split_digits ? (j > start ? j : j + 1) : run(j, IsDigit);
    } else if (!IsSpace(c)) {
      end = run(j, [](unsigned char x) { return !IsSpace(x) && !IsLetter(x) && !IsDigit(x); });
    } else {
      end = run(j, IsSpace);
      // \s+(?!\S): leave the last space to prefix the next word.
      if (end < n && end - start > 1) --end;
    }
    out.emplace_back(text.substr(start, end - start));
    i = end;
  }
  return out;
}

// Splits UTF-8 text into characters (each a complete sequence; the corpus is valid UTF-8).
std::vector<std::string> Utf8Chars(absl::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<TrainingWord> ToTrainingWords(const std::map<std::string, int64_t>& counts,
                                          bool byte_level) {
  std::vector<TrainingWord> words;
  for (const auto& [word, count] : counts) {
    TrainingWord w;
    w.count = count;
    if (byte_level) {
      for (const char c : word) w.symbols.push_back(ByteLevelChar(static_cast<uint8_t>(c)));
    } else {
      w.symbols = Utf8Chars(word);
    }
    words.push_back(std::move(w));
  }
  return words;
}

bool IsDigitSymbol(absl::string_view s) { return s.size() == 1 && IsDigit(s[0]); }

// Appends "<extra_N>" tokens until `vocab` has `size` entries, skipping any spelling in use.
int64_t Pad(std::vector<std::string>& vocab, int64_t size) {
  const std::set<std::string> used(vocab.begin(), vocab.end());
  int64_t added = 0;
  for (int64_t n = 0; static_cast<int64_t>(vocab.size()) < size; ++n) {
    std::string token = absl::StrCat("<extra_", n, ">");
    if (used.contains(token)) continue;
    vocab.push_back(std::move(token));
    ++added;
  }
  return added;
}

absl::StatusOr<TrainedTokenizer> BuildByteLevel(TokenizerStyle style, int64_t total_size,
                                                absl::string_view corpus) {
  const bool qwen = style == TokenizerStyle::kQwen2ByteLevel;
  const int64_t num_specials = qwen ? 3 : 1;
  const int64_t model_size = qwen ? total_size - num_specials : total_size - 1;
  if (model_size < 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vocab_size ", total_size, " is too small for a byte-level tokenizer (needs at least ",
        256 + num_specials, ": 256 bytes and the special tokens)"));
  }
  std::map<std::string, int64_t> counts;
  for (absl::string_view line : absl::StrSplit(corpus, '\n', absl::SkipEmpty())) {
    for (std::string& word : PreTokenize(line, /*split_digits=*/qwen)) ++counts[std::move(word)];
  }
  BpeTrainerOptions options;
  options.max_new_tokens = model_size - 256;
  if (qwen) options.is_frozen = IsDigitSymbol;
  BpeTrainingResult trained = TrainBpe(ToTrainingWords(counts, /*byte_level=*/true), options);

  TrainedTokenizer t;
  t.style = style;
  for (const uint8_t b : ByteLevelOrder()) t.vocab.push_back(ByteLevelChar(b));
  t.vocab.insert(t.vocab.end(), trained.new_tokens.begin(), trained.new_tokens.end());
  t.merges = std::move(trained.merges);
  t.learned_tokens = static_cast<int64_t>(trained.new_tokens.size());
  t.padding_tokens = Pad(t.vocab, model_size);
  if (qwen) {
    const auto base = static_cast<int32_t>(model_size);
    t.added_tokens = {{base, "<|endoftext|>", false},
                      {base + 1, "<|im_start|>", false},
                      {base + 2, "<|im_end|>", false}};
    // As Qwen2-Instruct: config.json names <|endoftext|> as BOS (the tokenizer adds none) and
    // <|im_end|> as EOS; generation_config.json stops on both.
    t.bos_id = base;
    t.eos_id = base + 2;
    t.pad_id = base;
  } else {
    const auto eot = static_cast<int32_t>(model_size);
    t.vocab.push_back("<|endoftext|>");
    t.added_tokens = {{eot, "<|endoftext|>", true}};
    t.bos_id = eot;
    t.eos_id = eot;
    t.unk_id = eot;
  }
  return t;
}

absl::StatusOr<TrainedTokenizer> BuildSentencePiece(int64_t total_size, absl::string_view corpus) {
  std::map<std::string, int64_t> counts;
  std::map<std::string, int64_t> char_counts;
  for (absl::string_view line : absl::StrSplit(corpus, '\n', absl::SkipEmpty())) {
    // The tokenizer's normalizer: prepend U+2581 and replace every space with it. Words then
    // start at each mark, as SentencePiece splits them for training.
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      const std::string piece = absl::StrCat(kSpaceMark, word);
      ++counts[piece];
      for (std::string& ch : Utf8Chars(piece)) ++char_counts[std::move(ch)];
    }
  }
  // The character alphabet, most frequent first (SentencePiece's score order), ties by text.
  std::vector<std::pair<std::string, int64_t>> alphabet(char_counts.begin(), char_counts.end());
  std::stable_sort(alphabet.begin(), alphabet.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const int64_t fixed = 3 + 256 + static_cast<int64_t>(alphabet.size());
  if (total_size < fixed) {
    return absl::InvalidArgumentError(
        absl::StrCat("vocab_size ", total_size,
                     " is too small for the SentencePiece-style tokenizer (needs at "
                     "least ",
                     fixed, ": 3 specials, 256 byte tokens and ", alphabet.size(), " characters)"));
  }
  BpeTrainerOptions options;
  options.max_new_tokens = total_size - fixed;
  options.is_frozen = IsDigitSymbol;  // Llama's SentencePiece model splits digits
  BpeTrainingResult trained = TrainBpe(ToTrainingWords(counts, /*byte_level=*/false), options);

  TrainedTokenizer t;
  t.style = TokenizerStyle::kLlamaSentencePiece;
  t.vocab = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) t.vocab.push_back(absl::StrFormat("<0x%02X>", b));
  t.vocab.insert(t.vocab.end(), trained.new_tokens.begin(), trained.new_tokens.end());
  t.merges = std::move(trained.merges);
  t.learned_tokens = static_cast<int64_t>(trained.new_tokens.size());
  t.padding_tokens = Pad(t.vocab, total_size - static_cast<int64_t>(alphabet.size()));
  for (const auto& [ch, count] : alphabet) t.vocab.push_back(ch);
  t.added_tokens = {{0, "<unk>", false}, {1, "<s>", false}, {2, "</s>", false}};
  t.unk_id = 0;
  t.bos_id = 1;
  t.eos_id = 2;
  return t;
}

}  // namespace

const std::string& ByteLevelChar(uint8_t b) { return Tables().chars[b]; }
const std::vector<uint8_t>& ByteLevelOrder() { return Tables().order; }

int64_t TrainedTokenizer::TotalSize() const {
  int64_t size = static_cast<int64_t>(vocab.size());
  for (const AddedToken& token : added_tokens) size = std::max<int64_t>(size, token.id + 1);
  return size;
}

std::string TrainedTokenizer::TokenText(std::optional<int32_t> id) const {
  if (!id.has_value()) return "";
  if (*id >= 0 && *id < static_cast<int32_t>(vocab.size())) return vocab[*id];
  for (const AddedToken& token : added_tokens) {
    if (token.id == *id) return token.content;
  }
  return "";
}

absl::StatusOr<TrainedTokenizer> BuildTokenizer(TokenizerStyle style, int64_t total_size,
                                                absl::string_view corpus) {
  if (style == TokenizerStyle::kLlamaSentencePiece) return BuildSentencePiece(total_size, corpus);
  return BuildByteLevel(style, total_size, corpus);
}

}  // namespace ember::tools
