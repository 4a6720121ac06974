// Loaders for Hugging Face BPE tokenizers from explicit files or in-memory text, for callers
// (tests, fuzzers, tools) that do not go through LoadTokenizer's directory probing. The tokenizers
// they return behave like Hugging Face `tokenizers` 0.23 (the reference the tests compare against).
//
// Supported in tokenizer.json (anything else is INVALID_ARGUMENT "unsupported ..."):
//   model        BPE: vocab, merges ("a b" strings or ["a", "b"] pairs), unk_token, fuse_unk,
//                byte_fallback, ignore_merges, continuing_subword_prefix, end_of_word_suffix;
//                dropout must be null or 0.
//   added_tokens content, id, special, normalized, lstrip, rstrip, single_word.
//   normalizer   Sequence, Prepend, Replace, Strip, ByteLevel.
//   pre_tokenizer Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit,
//                Punctuation, BertPreTokenizer.
//   post_processor TemplateProcessing (single), BertProcessing, RobertaProcessing, ByteLevel,
//                Sequence.
//   decoder      Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, BPEDecoder.
// "truncation" and "padding" are ignored: transformers' tokenizer(text) turns them off too unless
// asked.
#ifndef EMBER_CORE_TOKENIZER_HF_TOKENIZER_H_
#define EMBER_CORE_TOKENIZER_HF_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/tokenizer.h"

namespace ember {

// Parses the contents of a tokenizer.json. `source_name` (normally the file's path) starts every
// error message, followed by the offending field, e.g.
// "x/tokenizer.json: model.merges: merge 7 ("a b"): "b" is not in model.vocab".
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizerJson(absl::string_view json,
                                                               absl::string_view source_name);

// Reads and parses a tokenizer.json file (NOT_FOUND when it does not exist).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizerJsonFile(const std::string& path);

// Classic GPT-2 files, held in memory: `vocab_json` maps token -> id, `merges_txt` has one
// "left right" merge per line (an optional "#version" line and blank lines are skipped). Behaves as
// transformers' GPT2TokenizerFast: byte-level BPE with the GPT-2 regex, no prefix space, and
// "<|endoftext|>" as a special added token when the vocabulary has it. Errors start with
// `vocab_name` or `merges_name`.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGpt2VocabMergesFromText(
    absl::string_view vocab_json, absl::string_view merges_txt, absl::string_view vocab_name,
    absl::string_view merges_name);

// Reads vocab.json and merges.txt from disk; see LoadGpt2VocabMergesFromText.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGpt2VocabMerges(const std::string& vocab_path,
                                                               const std::string& merges_path);

}  // namespace ember

#endif  // EMBER_CORE_TOKENIZER_HF_TOKENIZER_H_
