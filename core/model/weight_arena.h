// One 2 MiB-aligned allocation that holds every packed weight of a model. Large pages
// (madvise(MADV_HUGEPAGE)) cut TLB misses when decode streams all weights each step, and a single
// arena makes "weights resident" one number. Filled once at load, read-only afterwards.
#ifndef EMBER_CORE_MODEL_WEIGHT_ARENA_H_
#define EMBER_CORE_MODEL_WEIGHT_ARENA_H_

#include <cstddef>

#include "absl/status/statusor.h"

namespace ember {

class WeightArena {
 public:
  WeightArena() = default;
  ~WeightArena();
  WeightArena(WeightArena&& other) noexcept;
  WeightArena& operator=(WeightArena&& other) noexcept;
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;

  // Maps `bytes` (rounded up to 2 MiB) of anonymous memory and asks for transparent huge pages.
  // RESOURCE_EXHAUSTED when the mapping fails.
  static absl::StatusOr<WeightArena> Create(size_t bytes);

  // Hands out the next `bytes` (64-byte aligned). Callers size the arena first (a planning pass
  // over the same allocations), so running out is a programming error: returns nullptr.
  void* Allocate(size_t bytes);

  // Start of the arena (nullptr when empty).
  const void* base() const { return base_; }
  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }

 private:
  char* base_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

}  // namespace ember

#endif  // EMBER_CORE_MODEL_WEIGHT_ARENA_H_
