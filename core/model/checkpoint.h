// A model directory's weights: one model.safetensors, or shards listed by
// model.safetensors.index.json. Gives name -> zero-copy TensorView over every file, whichever holds
// the tensor.
//
// Which files: model.safetensors when it exists (the order Hugging Face transformers uses), else
// the index and its shards; NOT_FOUND naming both when neither exists. Other *.safetensors files
// are not guessed at.
//
// A sharded checkpoint must agree with its index exactly (see safetensors_index.h for the index's
// own rules): every shard exists and is a valid safetensors file; every tensor the index lists is
// in the shard it names; and every tensor in a shard is listed for that shard. A tensor present in
// a shard but missing from the index, or present in a second shard too, is an error rather than a
// warning: it means shards from different revisions were mixed (e.g. an interrupted download), and
// serving a model assembled that way fails later in ways much harder to trace.
//
// Thread-safety: immutable after Open; const methods may be called concurrently. Views are valid
// while the Checkpoint lives and follow SafetensorsFile's alignment rule (1-byte aligned only).
#ifndef EMBER_CORE_MODEL_CHECKPOINT_H_
#define EMBER_CORE_MODEL_CHECKPOINT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model/safetensors_file.h"
#include "core/model/safetensors_header.h"
#include "core/tensor/shape.h"

namespace ember {

class Checkpoint {
 public:
  static constexpr absl::string_view kSingleFileName = "model.safetensors";
  static constexpr absl::string_view kIndexFileName = "model.safetensors.index.json";

  // Opens and validates every file of the checkpoint in `model_dir`. NOT_FOUND when the directory,
  // the checkpoint or a shard does not exist; INVALID_ARGUMENT for a malformed file or an index
  // that disagrees with its shards; DATA_LOSS for a truncated file. Messages name the file.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& model_dir);

  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // A view of tensor `name`. NOT_FOUND naming the directory and the tensor when absent; see
  // SafetensorsFile::Get for dtypes ember does not load.
  absl::StatusOr<TensorView> Get(absl::string_view name) const;

  bool Contains(absl::string_view name) const;
  // The validated header entry (dtype as spelled, shape, byte range) or nullptr when absent.
  const SafetensorsTensorInfo* Find(absl::string_view name) const;
  // Every tensor name, sorted.
  std::vector<std::string> TensorNames() const;
  // The file inside dir() that holds `name` ("model.safetensors" or a shard name), for messages;
  // empty when Contains(name) is false.
  absl::string_view FileOf(absl::string_view name) const;

  const std::string& dir() const { return dir_; }
  // True when loaded through model.safetensors.index.json.
  bool sharded() const { return sharded_; }
  // The opened files, sorted by file name; one for an unsharded checkpoint.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  Checkpoint(std::string dir, bool sharded, std::vector<std::string> file_names,
             std::vector<std::unique_ptr<SafetensorsFile>> files);

  const std::string dir_;
  const bool sharded_;
  const std::vector<std::string> file_names_;  // parallel to files_: names inside dir_
  const std::vector<std::unique_ptr<SafetensorsFile>> files_;
  absl::flat_hash_map<std::string, size_t> file_of_tensor_;  // tensor -> index into files_
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_CHECKPOINT_H_
