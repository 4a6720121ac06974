// Validation of a sharded checkpoint's index, model.safetensors.index.json: a pure function over
// the file's text, no I/O. Checkpoint (checkpoint.h) reads the file, opens the shards and
// cross-checks them against the index.
//
// The format is a Hugging Face convention rather than part of the safetensors spec:
//   {"metadata": {"total_size": 123}, "weight_map": {"<tensor>":
//   "model-00001-of-00002.safetensors"}}
// Rules:
//   * Strict JSON (strict_json.h: valid UTF-8, no repeated keys) whose top level is an object.
//   * "weight_map" is required, is a non-empty object, and every value is a string naming a shard.
//   * A shard name must be a plain file name inside the model directory: non-empty, not "." or
//   "..",
//     and without '/' or NUL. This rejects "../x.safetensors" and "/etc/passwd", so a downloaded
//     index cannot make the server open files outside the directory. (A shard that is a symlink, as
//     in the Hugging Face cache, is fine: the rule is about the name, not where it resolves.)
//   * "metadata" and any other top-level keys are ignored: total_size is informational, and writers
//     disagree on whether it counts padding.
// Errors are INVALID_ARGUMENT and start with `file_name`.
#ifndef EMBER_CORE_MODEL_SAFETENSORS_INDEX_H_
#define EMBER_CORE_MODEL_SAFETENSORS_INDEX_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember {

struct SafetensorsIndex {
  // Tensor name -> shard file name (relative to the model directory), sorted by tensor name.
  std::map<std::string, std::string> weight_map;
  // The distinct shard file names, sorted.
  std::vector<std::string> shards;
};

absl::StatusOr<SafetensorsIndex> ParseSafetensorsIndex(absl::string_view text,
                                                       absl::string_view file_name);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_SAFETENSORS_INDEX_H_
