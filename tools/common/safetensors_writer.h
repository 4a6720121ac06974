// Writes .safetensors files byte for byte as the official `safetensors` library does, streaming.
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
// bytes of JSON header, then the tensor data, contiguous and in header order. The official writer
// (safetensors `serialize`, used by torch `save_file` and transformers `save_pretrained`):
//   - orders tensors by dtype, widest first, then by name (byte-wise), and lays data out in that
//     order with no gaps;
//   - writes the header as compact JSON: `__metadata__` first, then each tensor as
//     {"dtype":..,"shape":[..],"data_offsets":[begin,end]} in data order;
//   - pads the header with spaces to a multiple of 8 bytes, so the data starts 8-aligned.
// The writer declares every tensor up front (the header precedes the data) and then takes the data
// tensor by tensor, in pieces if the caller likes, so a multi-GB checkpoint never has to be in
// memory at once.
#ifndef EMBER_TOOLS_COMMON_SAFETENSORS_WRITER_H_
#define EMBER_TOOLS_COMMON_SAFETENSORS_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tensor/dtype.h"
#include "core/tensor/shape.h"

namespace ember::tools {

struct TensorSpec {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
};

// `tensors` in the order the official writer lays them out (see the file comment).
std::vector<TensorSpec> SafetensorsOrder(std::vector<TensorSpec> tensors);

// The header JSON for `tensors` (already in file order), padded with spaces to a multiple of 8
// bytes; without the 8-byte length prefix. INVALID_ARGUMENT for an empty or repeated name, a name
// starting "__" (reserved by the format), or a negative dimension.
absl::StatusOr<std::string> SafetensorsHeaderJson(
    const std::vector<TensorSpec>& tensors, const std::map<std::string, std::string>& metadata);

// Size in bytes of one tensor's data.
uint64_t TensorBytes(const TensorSpec& tensor);

class SafetensorsWriter {
 public:
  // Creates (or truncates) `path` and writes the header for `tensors`; `metadata` becomes
  // `__metadata__` (transformers writes {"format": "pt"}). Errors name the path.
  static absl::StatusOr<std::unique_ptr<SafetensorsWriter>> Create(
      const std::string& path, std::vector<TensorSpec> tensors,
      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // The tensors in file order: data must arrive in exactly this order.
  const std::vector<TensorSpec>& tensors() const { return tensors_; }

  // Appends `bytes` to the data of tensor `name`, which must be the first tensor not yet complete
  // (FAILED_PRECONDITION otherwise, or when the bytes overrun the tensor). A tensor may arrive in
  // any number of pieces; once its last byte is written the next tensor is due.
  absl::Status Write(absl::string_view name, absl::string_view bytes);

  // Checks that every tensor is complete, then flushes and closes the file. Must be called for the
  // file to be valid; the destructor closes without checking.
  absl::Status Close();

  // Total file size once complete: 8 + header + data.
  uint64_t file_size() const { return file_size_; }

 private:
  SafetensorsWriter(std::string path, std::FILE* file, std::vector<TensorSpec> tensors,
                    uint64_t file_size);

  std::string path_;
  std::FILE* file_;
  std::vector<TensorSpec> tensors_;
  uint64_t file_size_;
  size_t current_ = 0;            // index of the tensor being written
  uint64_t current_written_ = 0;  // bytes of tensors_[current_] written so far
};

}  // namespace ember::tools

#endif  // EMBER_TOOLS_COMMON_SAFETENSORS_WRITER_H_
