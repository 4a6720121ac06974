#include "core/model/safetensors_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/tensor/dtype.h"

namespace ember {
namespace {

// Closes a file descriptor on scope exit. The mapping outlives it: mmap keeps its own reference.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Unmaps on scope exit unless released, so every early error return in Open cleans up.
class ScopedMapping {
 public:
  ScopedMapping(void* base, size_t size) : base_(base), size_(size) {}
  ~ScopedMapping() {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  ScopedMapping(const ScopedMapping&) = delete;
  ScopedMapping& operator=(const ScopedMapping&) = delete;
  const char* Release() { return static_cast<const char*>(std::exchange(base_, nullptr)); }

 private:
  void* base_;
  size_t size_;
};

absl::Status OpenError(const std::string& path, absl::string_view action, int error) {
  if (error == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return absl::ErrnoToStatus(error, absl::StrCat(path, ": cannot ", action));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  // O_NONBLOCK so that a FIFO at `path` fails the regular-file check instead of blocking the open;
  // it has no effect on regular files.
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return OpenError(path, "open", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return OpenError(path, "stat", errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  // mmap rejects a zero length; an empty file then fails the header check with a clear message.
  void* base = nullptr;
  if (size > 0) {
    base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (base == MAP_FAILED) return OpenError(path, "mmap", errno);
  }
  ScopedMapping mapping(base, size);

  absl::StatusOr<SafetensorsHeader> header =
      ParseSafetensorsHeader(absl::string_view(static_cast<const char*>(base), size), size, path);
  if (!header.ok()) return header.status();
  return std::unique_ptr<SafetensorsFile>(
      new SafetensorsFile(path, mapping.Release(), size, *std::move(header)));
}

SafetensorsFile::SafetensorsFile(std::string path, const char* base, uint64_t file_size,
                                 SafetensorsHeader header)
    : path_(std::move(path)), base_(base), file_size_(file_size), header_(std::move(header)) {
  index_.reserve(header_.tensors.size());
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_.emplace(header_.tensors[i].name, i);
}

SafetensorsFile::~SafetensorsFile() {
  if (base_ != nullptr) ::munmap(const_cast<char*>(base_), file_size_);
}

absl::StatusOr<TensorView> SafetensorsFile::Get(absl::string_view name) const {
  const SafetensorsTensorInfo* info = Find(name);
  if (info == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor \"", name, "\""));
  }
  if (!info->dtype.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path_, ": tensor \"", name, "\": ", ParseDType(info->dtype_name).status().message()));
  }
  TensorView view;
  view.dtype = *info->dtype;
  view.shape = info->shape;
  view.data = base_ + header_.data_start + info->begin;
  view.num_bytes = static_cast<size_t>(info->num_bytes());
  return view;
}

bool SafetensorsFile::Contains(absl::string_view name) const { return index_.contains(name); }

const SafetensorsTensorInfo* SafetensorsFile::Find(absl::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

std::vector<std::string> SafetensorsFile::TensorNames() const {
  std::vector<std::string> names;
  names.reserve(header_.tensors.size());
  for (const SafetensorsTensorInfo& info : header_.tensors) names.push_back(info.name);
  return names;  // header_.tensors is sorted by name
}

absl::Status SafetensorsFile::Advise(Access access) const {
  int advice = MADV_NORMAL;
  switch (access) {
    case Access::kNormal:
      advice = MADV_NORMAL;
      break;
    case Access::kSequential:
      advice = MADV_SEQUENTIAL;
      break;
    case Access::kRandom:
      advice = MADV_RANDOM;
      break;
    case Access::kWillNeed:
      advice = MADV_WILLNEED;
      break;
    case Access::kDontNeed:
      advice = MADV_DONTNEED;
      break;
  }
  if (base_ == nullptr) return absl::OkStatus();
  if (::madvise(const_cast<char*>(base_), file_size_, advice) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path_, ": madvise"));
  }
  return absl::OkStatus();
}

}  // namespace ember
