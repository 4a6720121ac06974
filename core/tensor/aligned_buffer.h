// Owning, aligned, uninitialized byte storage (activations, scratch, weight arenas).
#ifndef EMBER_CORE_TENSOR_ALIGNED_BUFFER_H_
#define EMBER_CORE_TENSOR_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace ember {

// `n` rounded up to a multiple of 64 (a cache line, AlignedBuffer's default alignment): the bytes a
// block takes when the one packed behind it must start 64-byte aligned too (WeightArena's
// allocations, a Linear's packed weights and bias).
inline constexpr size_t RoundUp64(size_t n) { return (n + 63) / 64 * 64; }

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // `alignment` must be a power of two; size is rounded up to a multiple of it. Throws
  // std::bad_alloc when memory is exhausted, like operator new.
  explicit AlignedBuffer(size_t size, size_t alignment = 64)
      : size_(size), data_(Allocate(size, alignment)) {}

  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  template <typename T>
  T* as() {
    return static_cast<T*>(data_.get());
  }
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data_.get());
  }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  static void* Allocate(size_t size, size_t alignment) {
    if (size == 0) return nullptr;
    const size_t rounded = (size + alignment - 1) / alignment * alignment;
    void* p = std::aligned_alloc(alignment, rounded);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  size_t size_ = 0;
  std::unique_ptr<void, Free> data_;
};

}  // namespace ember

#endif  // EMBER_CORE_TENSOR_ALIGNED_BUFFER_H_
