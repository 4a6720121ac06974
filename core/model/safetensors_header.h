// Validation of the safetensors header: a pure function over bytes, no I/O, so it can be
// unit-tested and fuzzed on its own. SafetensorsFile (safetensors_file.h) maps a file and calls it.
//
// The format (https://github.com/huggingface/safetensors):
//   [8 bytes: N, little-endian u64][N bytes: JSON header][data section: the rest of the file]
// The header maps each tensor name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
// where [b, e) is a byte range relative to the start of the data section; an optional
// "__metadata__" entry maps strings to strings.
//
// What is rejected and why. The rules follow the reference Rust crate (`safetensors`,
// Metadata::validate), which refuses any file whose tensors do not tile the data section exactly;
// ember is stricter where the crate is permissive, because a loader that guesses is a loader that
// silently serves the wrong weights.
//   * Header length N: 0, above kMaxSafetensorsHeaderBytes (the crate's 100,000,000 cap; also
//     stops a hostile 2^63 before any arithmetic), or 8 + N past the end of the file.
//   * Header text: must start with '{' (so no leading whitespace), be valid UTF-8 and strict JSON;
//     trailing spaces (the padding writers add to align the data section) are fine. Repeated keys
//     are rejected (the crate lets the last one win): a duplicate tensor name is ambiguous.
//   * "__metadata__": an object whose values are all strings (null is rejected too).
//   * Each tensor entry: an object with exactly "dtype", "shape" and "data_offsets". Unknown keys
//   are
//     rejected (the crate ignores them): they mean a format this reader does not understand.
//   * dtype: any safetensors dtype whose element is a whole number of bytes is accepted, so a file
//     holding, say, an I64 buffer next to the F32 weights still opens; `dtype` below is then empty
//     and SafetensorsFile::Get refuses that one tensor. Unknown strings (and sub-byte types such as
//     F4, which ember cannot size the same way) reject the file: the layout cannot be checked.
//   * shape: an array of integers in [0, 2^63); JSON floats, even 4.0, are rejected (the crate's
//     usize fields do the same). The element count and the byte count must not overflow.
//   * data_offsets: an array of two integers [begin, end], begin <= end, and end - begin equal to
//     elements * dtype size.
//   * Layout: sorted by (begin, end), each tensor must start exactly where the previous one ended
//     and the first at 0; this rejects overlaps, holes and a non-zero start. The last end must
//     equal the data section size: bytes after it are rejected (the crate's
//     MetadataIncompleteBuffer), and a file shorter than that is truncated. Empty tensors ([b, b])
//     fit anywhere in this chain.
// Status codes: DATA_LOSS when the file is shorter than its header says (header length past the
// end, tensors past the end: a truncated copy or download); INVALID_ARGUMENT for everything else.
// Every message starts with the file name and names the tensor or field at fault.
#ifndef EMBER_CORE_MODEL_SAFETENSORS_HEADER_H_
#define EMBER_CORE_MODEL_SAFETENSORS_HEADER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tensor/dtype.h"
#include "core/tensor/shape.h"

namespace ember {

// The reference implementation's cap on N.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// One validated tensor entry.
struct SafetensorsTensorInfo {
  std::string name;
  // The dtype as spelled in the file: "F32", "BF16", "I64", ...
  std::string dtype_name;
  // Set when ember loads this dtype (F32, F16, BF16); empty for other safetensors dtypes.
  std::optional<DType> dtype;
  // Every dimension >= 0; the element count fits in int64. [] is a scalar.
  Shape shape;
  // [begin, end): byte range relative to the start of the data section.
  uint64_t begin = 0;
  uint64_t end = 0;

  uint64_t num_bytes() const { return end - begin; }
};

// A validated header. Its tensors exactly tile the data section, which is exactly the rest of the
// file after the header.
struct SafetensorsHeader {
  // N: bytes of JSON text after the 8-byte length (including any padding).
  uint64_t header_bytes = 0;
  // 8 + N: file offset at which the data section starts.
  uint64_t data_start = 0;
  // file_size - data_start.
  uint64_t data_bytes = 0;
  // Sorted by name.
  std::vector<SafetensorsTensorInfo> tensors;
  // "__metadata__"; empty when absent.
  std::map<std::string, std::string> metadata;
};

// Reads and checks N from the first 8 bytes (`file_prefix` may be longer). Use it to learn how many
// bytes to hand to ParseSafetensorsHeader when reading rather than mapping a file.
absl::StatusOr<uint64_t> ParseSafetensorsHeaderLength(absl::string_view file_prefix,
                                                      uint64_t file_size,
                                                      absl::string_view file_name);

// Validates a safetensors header. `file_prefix` holds at least the first 8 + N bytes of the file
// (the whole mapped file is fine; the data section itself is never read), `file_size` is the size
// of the whole file, and `file_name` starts every error message. See the top of this file for the
// rules.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view file_prefix,
                                                         uint64_t file_size,
                                                         absl::string_view file_name);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_SAFETENSORS_HEADER_H_
