// The text the generator trains its tokenizers on: a few kilobytes of English prose embedded in the
// tool, so a generated tokenizer depends on nothing outside the repository.
#ifndef EMBER_TOOLS_MAKE_MODEL_CORPUS_H_
#define EMBER_TOOLS_MAKE_MODEL_CORPUS_H_

#include "absl/strings/string_view.h"

namespace ember::tools {

// Paragraphs separated by '\n'; UTF-8.
absl::string_view TrainingCorpus();

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_CORPUS_H_
