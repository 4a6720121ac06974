// Writes a complete Hugging Face model directory for a ModelSpec: config.json,
// generation_config.json, the weights (model.safetensors, or shards plus
// model.safetensors.index.json), tokenizer.json, tokenizer_config.json and special_tokens_map.json.
// Marian (docs/MARIAN.md) writes source.spm, target.spm and vocab.json instead of tokenizer.json.
//
// Output is a pure function of the options: the same options give byte-identical files on every
// run. Weights are streamed tensor by tensor in 1M-element chunks, so memory stays small whatever
// the model size.
#ifndef EMBER_TOOLS_MAKE_MODEL_MAKE_MODEL_H_
#define EMBER_TOOLS_MAKE_MODEL_MAKE_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/make_model/model_spec.h"

namespace ember::tools {

struct MakeModelOptions {
  // Directory to write; created (with parents) if missing. The generator overwrites the files it
  // writes and deletes weight files of the other layout (model.safetensors vs shards + index) so
  // the directory never holds two checkpoints.
  std::string out_dir;
  // Architecture and sizes: a preset (PresetSpec) with any overrides applied.
  ModelSpec spec;
  // Seeds every weight. The tokenizer and the JSON files do not depend on it.
  uint64_t seed = 0;
  // Number of safetensors files: 1 writes model.safetensors; N > 1 writes
  // model-0000i-of-0000N.safetensors plus model.safetensors.index.json, as save_pretrained does
  // when a checkpoint exceeds max_shard_size. Must not exceed the number of tensors.
  int shards = 1;
  // Marian only: the directory holding source.spm and target.spm to copy into the model and
  // build vocab.json from. Empty: DefaultMarianSpmDir() (tools/spm_fixtures/marian).
  std::string spm_dir;
};

struct MakeModelReport {
  // Parameters stored (tied embeddings counted once).
  int64_t parameters = 0;
  // Sum of all written file sizes.
  uint64_t bytes_written = 0;
  // File names written, relative to out_dir.
  std::vector<std::string> files;
  // The vocabulary size written (a Marian preset's 0 resolved to the size of vocab.json).
  int64_t vocab_size = 0;
  // Tokenizer entries learned by BPE and entries added as synthetic padding. Marian: the entries
  // of vocab.json but <pad>, and the unused ids before <pad>.
  int64_t learned_tokens = 0;
  int64_t padding_tokens = 0;
};

absl::StatusOr<MakeModelReport> MakeModel(const MakeModelOptions& options);

// Splits `tensors` (model order) into `shards` contiguous, non-empty groups of roughly equal
// bytes at `bytes_per_element`, the way save_pretrained fills shards in state_dict order.
// INVALID_ARGUMENT when shards < 1 or exceeds the number of tensors.
absl::StatusOr<std::vector<std::vector<WeightSpec>>> SplitIntoShards(
    const std::vector<WeightSpec>& tensors, int shards, uint64_t bytes_per_element);

// "model-00002-of-00005.safetensors" for shard index 1 of 5.
std::string ShardFileName(int index, int shards);

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_MAKE_MODEL_H_
