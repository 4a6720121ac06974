// The cases of the bad-model-files matrix (bad_model_files_test.cc): each names one way to break a
// valid model directory and what the load must then report.
#ifndef EMBER_TESTS_CORE_MODEL_BAD_MODEL_CASES_H_
#define EMBER_TESTS_CORE_MODEL_BAD_MODEL_CASES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/core/model/model_dir_edits.h"

namespace ember {

// Which generated template a case starts from.
enum class ModelLayout {
  kSingleFile,  // model.safetensors
  kSharded,     // model.safetensors.index.json + model-0000{1,2}-of-00002.safetensors
};

struct BadModelCase {
  // The test name: [A-Za-z0-9]+, unique across all groups.
  std::string name;
  ModelLayout layout = ModelLayout::kSingleFile;
  // Breaks the copy of the template.
  std::function<void(const testing::ModelDirEdits&)> damage;
  // The expected status code. kOk: the model must load, and a warning must be logged instead.
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  // The file the message must name, relative to the model directory; empty when the message names
  // the directory itself (e.g. "no tokenizer found in <dir>").
  std::string file;
  // The tensor or field (and any other detail) the message must contain.
  std::vector<std::string> what;
};

// Defects inside one safetensors file: framing, header JSON, entries, layout, data.
std::vector<BadModelCase> SafetensorsFileCases();
// Defects across files: tensors vs config.json, missing files, the shard index and its shards,
// non-finite and unused weights.
std::vector<BadModelCase> CheckpointCases();
// config.json and generation_config.json.
std::vector<BadModelCase> ConfigCases();
// tokenizer.json, vocab.json + merges.txt, SentencePiece tokenizer.model, none at all.
std::vector<BadModelCase> TokenizerCases();

// Replaces tokenizer.json with the SentencePiece fixture tests/core/tokenizer/testdata/
// spm_bpe.model (420 pieces, within the template's 512-row vocabulary) as tokenizer.model.
void UseSentencePieceTokenizer(const testing::ModelDirEdits& model);

}  // namespace ember

#endif  // EMBER_TESTS_CORE_MODEL_BAD_MODEL_CASES_H_
