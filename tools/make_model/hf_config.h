// config.json and generation_config.json for a generated checkpoint, as transformers'
// save_pretrained writes them for GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM and
// MarianMTModel: every key of the config class, sorted, 2-space indent, trailing newline.
#ifndef EMBER_TOOLS_MAKE_MODEL_HF_CONFIG_H_
#define EMBER_TOOLS_MAKE_MODEL_HF_CONFIG_H_

#include <string>

#include "tools/make_model/model_spec.h"
#include "tools/make_model/tokenizer_builder.h"

namespace ember::tools {

// The transformers version the generated files claim; the key only records provenance.
inline constexpr char kTransformersVersion[] = "4.46.3";

// Token ids (bos, eos, pad) come from `tokenizer`. Not for kMarian (see below).
std::string ConfigJson(const ModelSpec& spec, const TrainedTokenizer& tokenizer);

std::string GenerationConfigJson(const ModelSpec& spec, const TrainedTokenizer& tokenizer);

// Marian's files, shaped like Helsinki-NLP/opus-mt-en-de's (docs/MARIAN.md): the ids are fixed
// by the layout of vocab.json (eos "</s>" = 0, pad "<pad>" = vocab_size - 1, which is also the
// decoder start token and the one bad word), and generation defaults to 4 beams up to
// max_position_embeddings tokens.
std::string MarianConfigJson(const ModelSpec& spec);
std::string MarianGenerationConfigJson(const ModelSpec& spec);

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_HF_CONFIG_H_
