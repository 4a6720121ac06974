// Serializes a TrainedTokenizer as the files a Hugging Face model directory ships:
// tokenizer.json (the `tokenizers` library's format, in the exact layout of GPT-2's, Llama 2's or
// Qwen2's published file), tokenizer_config.json and special_tokens_map.json (as transformers'
// save_pretrained writes them: sorted keys, 2-space indent, trailing newline).
#ifndef EMBER_TOOLS_MAKE_MODEL_TOKENIZER_FILES_H_
#define EMBER_TOOLS_MAKE_MODEL_TOKENIZER_FILES_H_

#include <cstdint>
#include <string>

#include "tools/make_model/tokenizer_builder.h"

namespace ember::tools {

std::string TokenizerJson(const TrainedTokenizer& tokenizer);

// `model_max_length` is the model's context length.
std::string TokenizerConfigJson(const TrainedTokenizer& tokenizer, int64_t model_max_length);

std::string SpecialTokensMapJson(const TrainedTokenizer& tokenizer);

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_TOKENIZER_FILES_H_
