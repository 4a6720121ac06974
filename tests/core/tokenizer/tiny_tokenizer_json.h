// Tiny tokenizer.json files in the two shapes real models ship, built in memory for tests that
// need Hugging Face-style tokenizers without the real (multi-megabyte) files.
#ifndef EMBER_TESTS_CORE_TOKENIZER_TINY_TOKENIZER_JSON_H_
#define EMBER_TESTS_CORE_TOKENIZER_TINY_TOKENIZER_JSON_H_

#include <string>

namespace ember::testing {

// Byte-level BPE (GPT-2 / Llama 3 style: ByteLevel pre-tokenizer and decoder, <|endoftext|>
// special) over the 256 byte tokens, with merges that make partial UTF-8 tokens: the first two and
// three bytes of an emoji, of "中".
std::string TinyByteLevelTokenizerJson();

// SentencePiece-style BPE (Llama 2 / Mistral style): "▁" for spaces via Prepend + Replace,
// <0xNN> byte fallback, <unk> <s> </s> special, BOS added by TemplateProcessing, and the
// Replace/ByteFallback/Fuse/Strip decoder.
std::string TinySentencePieceStyleTokenizerJson();

}  // namespace ember::testing

#endif  // EMBER_TESTS_CORE_TOKENIZER_TINY_TOKENIZER_JSON_H_
