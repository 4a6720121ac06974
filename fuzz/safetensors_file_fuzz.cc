// Fuzzes opening a whole safetensors file (core/model/safetensors_file.h): the input is written to
// an in-memory file (memfd) that SafetensorsFile::Open maps like any checkpoint, then every
// tensor is looked up and every byte of every view is read.
//
// Invariant: an opened file gives, for each listed tensor, a view whose bytes are exactly the
// input's bytes at data start + [begin, end) (so no view reaches outside the mapping; ASan and the
// memcmp would both catch one that did), with num_bytes = elements * dtype size; tensors of dtypes
// ember does not load are refused by Get with INVALID_ARGUMENT naming the tensor.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/model/safetensors_file.h"
#include "core/tensor/dtype.h"
#include "fuzz/fuzz_util.h"

namespace ember {
namespace {

// One memfd per process, rewritten for every input; /proc/self/fd/N is a path Open can take.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("ember_safetensors_fuzz", MFD_CLOEXEC)) {
    EMBER_FUZZ_CHECK(fd_ >= 0, "memfd_create failed");
    path_ = absl::StrCat("/proc/self/fd/", fd_);
  }

  void Write(const uint8_t* data, size_t size) {
    EMBER_FUZZ_CHECK(ftruncate(fd_, 0) == 0, "ftruncate failed");
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      EMBER_FUZZ_CHECK(n > 0, "pwrite failed");
      done += static_cast<size_t>(n);
    }
  }

  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

uint64_t DataStart(const uint8_t* data) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(data[i]) << (8 * i);
  return 8 + n;
}

void TouchEveryTensor(const SafetensorsFile& file, const uint8_t* data, size_t size) {
  const uint64_t data_start = DataStart(data);  // Open succeeded, so the file has 8 + N bytes
  EMBER_FUZZ_CHECK(file.file_size() == size, "file_size ", file.file_size(), " for ", size);
  for (const SafetensorsTensorInfo& info : file.tensors()) {
    EMBER_FUZZ_CHECK(file.Find(info.name) == &info, "Find(", info.name, ") disagrees");
    const absl::StatusOr<TensorView> view = file.Get(info.name);
    if (!info.dtype.has_value()) {
      EMBER_FUZZ_CHECK(!view.ok() && view.status().code() == absl::StatusCode::kInvalidArgument &&
                           absl::StrContains(view.status().message(), info.name),
                       "Get of a ", info.dtype_name, " tensor: ", view.status().ToString());
      continue;
    }
    EMBER_FUZZ_CHECK(view.ok(), "Get(", info.name, "): ", view.status().ToString());
    EMBER_FUZZ_CHECK(view->num_bytes == info.num_bytes(), "view of ", info.name, " has ",
                     view->num_bytes, " bytes, header says ", info.num_bytes());
    const absl::StatusOr<int64_t> elements = CheckedNumElements(view->shape);
    EMBER_FUZZ_CHECK(elements.ok() && static_cast<uint64_t>(*elements) * DTypeSize(view->dtype) ==
                                          view->num_bytes,
                     "view of ", info.name, " does not match its shape");
    EMBER_FUZZ_CHECK(data_start + info.end <= size, "tensor ", info.name, " ends at file byte ",
                     data_start + info.end, " of ", size);
    EMBER_FUZZ_CHECK(view->num_bytes == 0 || std::memcmp(view->data, data + data_start + info.begin,
                                                         view->num_bytes) == 0,
                     "view of ", info.name, " does not hold the file's bytes at its offsets");
  }
  constexpr absl::string_view kAbsent = "\x01 absent";
  if (!file.Contains(kAbsent)) {
    const absl::StatusOr<TensorView> absent = file.Get(kAbsent);
    EMBER_FUZZ_CHECK(absent.status().code() == absl::StatusCode::kNotFound,
                     "Get of an absent name: ", absent.status().ToString());
  }
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ember::MemFile* const mem = new ember::MemFile();  // lives for the process
  mem->Write(data, size);
  const auto file = ember::SafetensorsFile::Open(mem->path());
  if (file.ok()) {
    ember::TouchEveryTensor(**file, data, size);
  } else {
    EMBER_FUZZ_CHECK(absl::StartsWith(file.status().message(), mem->path()),
                     "message does not name the file: ", file.status().message());
  }
  return 0;
}
