// One .safetensors file, memory-mapped read-only, with zero-copy views of its tensors.
//
// Opening maps the file and validates its header (safetensors_header.h) but reads none of the
// tensor data: pages are faulted in when a consumer touches a view, so a 10 GB checkpoint costs
// address space, not RAM, until it is used.
//
// Alignment: tensor data starts at 8 + N + begin, where N (the header length) and begin are
// arbitrary, so a view's `data` is only guaranteed to be 1-byte aligned. Consumers must not cast it
// to `const float*` and dereference; copy with memcpy or read bytes. (The engine copies/reorders
// weights into its own aligned arena anyway.)
//
// Thread-safety: immutable after Open; all const methods may be called concurrently. Views stay
// valid while the SafetensorsFile lives. If another process truncates the file while it is mapped,
// touching a view past the new end raises SIGBUS: checkpoints must not be rewritten in place while
// served.
#ifndef EMBER_CORE_MODEL_SAFETENSORS_FILE_H_
#define EMBER_CORE_MODEL_SAFETENSORS_FILE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model/safetensors_header.h"
#include "core/tensor/shape.h"

namespace ember {

class SafetensorsFile {
 public:
  // How the caller expects to touch the mapping; forwarded to madvise(2) as a hint.
  enum class Access {
    kNormal,
    kSequential,  // one pass front to back, e.g. copying every weight into an arena
    kRandom,      // scattered reads; disables read-ahead
    kWillNeed,    // start reading the whole file in now
    kDontNeed,    // drop the pages (they are re-read from disk if touched again)
  };

  // Maps and validates `path`. NOT_FOUND when it does not exist; INVALID_ARGUMENT when it is not a
  // regular file or its header breaks a rule in safetensors_header.h; DATA_LOSS when it is
  // truncated. Messages start with `path`.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // A view of tensor `name`'s bytes inside the mapping (see the alignment note above). NOT_FOUND
  // naming the file and the tensor when absent; INVALID_ARGUMENT when its dtype is one ember does
  // not load (e.g. I64): such tensors are listed but cannot be viewed.
  absl::StatusOr<TensorView> Get(absl::string_view name) const;

  bool Contains(absl::string_view name) const;
  // The validated header entry for `name`, or nullptr. Valid while this object lives.
  const SafetensorsTensorInfo* Find(absl::string_view name) const;
  // All tensor names, sorted.
  std::vector<std::string> TensorNames() const;
  // Every tensor entry, sorted by name.
  const std::vector<SafetensorsTensorInfo>& tensors() const { return header_.tensors; }
  // The "__metadata__" map (e.g. {"format": "pt"}); empty when the file has none.
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }

  // madvise(2) over the whole mapping. A hint only; the errno as a status if the kernel rejects it.
  absl::Status Advise(Access access) const;

 private:
  SafetensorsFile(std::string path, const char* base, uint64_t file_size, SafetensorsHeader header);

  const std::string path_;
  const char* const base_;  // start of the mapping; nullptr for an empty file (never valid anyway)
  const uint64_t file_size_;
  const SafetensorsHeader header_;
  absl::flat_hash_map<std::string, size_t> index_;  // name -> position in header_.tensors
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_SAFETENSORS_FILE_H_
