#include "core/model/weight_arena.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/tensor/aligned_buffer.h"

namespace ember {
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

WeightArena::~WeightArena() {
  if (base_ != nullptr) ::munmap(base_, capacity_);
}

WeightArena::WeightArena(WeightArena&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      used_(std::exchange(other.used_, 0)) {}

WeightArena& WeightArena::operator=(WeightArena&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(base_, capacity_);
    base_ = std::exchange(other.base_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    used_ = std::exchange(other.used_, 0);
  }
  return *this;
}

absl::StatusOr<WeightArena> WeightArena::Create(size_t bytes) {
  WeightArena arena;
  const size_t capacity = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if (capacity == 0) return arena;
  // Over-map by one huge page so the start can be aligned to 2 MiB, then trim both ends.
  const size_t span = capacity + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map a weight arena of ", capacity, " bytes: ", std::strerror(errno)));
  }
  char* start = static_cast<char*>(raw);
  char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(start) + kHugePage - 1) /
                                          kHugePage * kHugePage);
  if (aligned > start) ::munmap(start, static_cast<size_t>(aligned - start));
  char* end = aligned + capacity;
  char* span_end = start + span;
  if (span_end > end) ::munmap(end, static_cast<size_t>(span_end - end));
  // A hint: without THP (mode "never") the arena still works with 4 KiB pages.
  ::madvise(aligned, capacity, MADV_HUGEPAGE);
  arena.base_ = aligned;
  arena.capacity_ = capacity;
  return arena;
}

void* WeightArena::Allocate(size_t bytes) {
  const size_t rounded = RoundUp64(bytes);
  if (used_ + rounded > capacity_) return nullptr;
  void* p = base_ + used_;
  used_ += rounded;
  return p;
}

}  // namespace ember
