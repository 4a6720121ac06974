#include "tools/common/safetensors_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace ember::tools {
namespace {

// The rank of a dtype in the official writer's sort: the declaration order of safetensors' Rust
// `Dtype` enum (..., F16, BF16, ..., F32, ...), which it sorts descending.
int DTypeRank(DType dtype) {
  switch (dtype) {
    case DType::kF16:
      return 0;
    case DType::kBF16:
      return 1;
    case DType::kF32:
      return 2;
  }
  return -1;
}

absl::Status ErrnoError(const std::string& path, absl::string_view what) {
  return absl::InternalError(absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

}  // namespace

std::vector<TensorSpec> SafetensorsOrder(std::vector<TensorSpec> tensors) {
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorSpec& a, const TensorSpec& b) {
    const int ra = DTypeRank(a.dtype);
    const int rb = DTypeRank(b.dtype);
    if (ra != rb) return ra > rb;
    return a.name < b.name;
  });
  return tensors;
}

uint64_t TensorBytes(const TensorSpec& tensor) {
  uint64_t n = DTypeSize(tensor.dtype);
  for (const int64_t d : tensor.shape) n *= static_cast<uint64_t>(d);
  return n;
}

absl::StatusOr<std::string> SafetensorsHeaderJson(
    const std::vector<TensorSpec>& tensors, const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps insertion order, which is the file order the format requires.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<absl::string_view> seen;
  uint64_t offset = 0;
  for (const TensorSpec& tensor : tensors) {
    if (tensor.name.empty() || absl::StartsWith(tensor.name, "__")) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid tensor name \"", tensor.name, "\" (empty or starting \"__\")"));
    }
    if (!seen.insert(tensor.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("tensor \"", tensor.name, "\" is repeated"));
    }
    if (std::any_of(tensor.shape.begin(), tensor.shape.end(), [](int64_t d) { return d < 0; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", tensor.name, "\" has a negative dimension"));
    }
    const uint64_t end = offset + TensorBytes(tensor);
    nlohmann::ordered_json info = nlohmann::ordered_json::object();
    info["dtype"] = std::string(DTypeName(tensor.dtype));
    info["shape"] = tensor.shape;
    info["data_offsets"] = {offset, end};
    // ordered_json's object insert scans the keys linearly; emplace_back skips that (names were
    // checked unique above), keeping thousands of tensors linear.
    header.get_ref<nlohmann::ordered_json::object_t&>().emplace_back(tensor.name, std::move(info));
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

absl::StatusOr<std::unique_ptr<SafetensorsWriter>> SafetensorsWriter::Create(
    const std::string& path, std::vector<TensorSpec> tensors,
    const std::map<std::string, std::string>& metadata) {
  tensors = SafetensorsOrder(std::move(tensors));
  absl::StatusOr<std::string> header = SafetensorsHeaderJson(tensors, metadata);
  if (!header.ok()) {
    return absl::Status(header.status().code(),
                        absl::StrCat(path, ": ", header.status().message()));
  }
  uint64_t data_bytes = 0;
  for (const TensorSpec& tensor : tensors) data_bytes += TensorBytes(tensor);

  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return ErrnoError(path, "cannot create");
  // A large stdio buffer turns the many small writes of a chunked tensor into few syscalls.
  std::setvbuf(file, nullptr, _IOFBF, size_t{1} << 20);
  auto writer = std::unique_ptr<SafetensorsWriter>(
      new SafetensorsWriter(path, file, std::move(tensors), 8 + header->size() + data_bytes));
  unsigned char length[8];
  const uint64_t n = header->size();
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(n >> (8 * i));
  if (std::fwrite(length, 1, 8, file) != 8 ||
      std::fwrite(header->data(), 1, header->size(), file) != header->size()) {
    return ErrnoError(path, "write failed");
  }
  // Skip zero-byte tensors so that Write() is only ever due for one with data.
  while (writer->current_ < writer->tensors_.size() &&
         TensorBytes(writer->tensors_[writer->current_]) == 0) {
    ++writer->current_;
  }
  return writer;
}

SafetensorsWriter::SafetensorsWriter(std::string path, std::FILE* file,
                                     std::vector<TensorSpec> tensors, uint64_t file_size)
    : path_(std::move(path)), file_(file), tensors_(std::move(tensors)), file_size_(file_size) {}

SafetensorsWriter::~SafetensorsWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status SafetensorsWriter::Write(absl::string_view name, absl::string_view bytes) {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": write after Close"));
  }
  if (current_ >= tensors_.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": tensor \"", name, "\" written after every tensor was complete"));
  }
  const TensorSpec& due = tensors_[current_];
  if (name != due.name) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, ": tensor \"", name, "\" written while \"", due.name, "\" is due (file order)"));
  }
  const uint64_t size = TensorBytes(due);
  if (current_written_ + bytes.size() > size) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": tensor \"", name, "\" is ", size,
                                                      " bytes; ", current_written_ + bytes.size(),
                                                      " were written"));
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return ErrnoError(path_, "write failed");
  }
  current_written_ += bytes.size();
  if (current_written_ == size) {
    current_written_ = 0;
    ++current_;
    while (current_ < tensors_.size() && TensorBytes(tensors_[current_]) == 0) ++current_;
  }
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::Close() {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat(path_, ": closed twice"));
  if (current_ < tensors_.size()) {
    std::fclose(file_);
    file_ = nullptr;
    return absl::FailedPreconditionError(absl::StrCat(path_, ": closed before tensor \"",
                                                      tensors_[current_].name, "\" was complete"));
  }
  const bool flushed = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) return ErrnoError(path_, "flush failed");
  return absl::OkStatus();
}

}  // namespace ember::tools
