// What the machine has: its physical memory, asked of the system. Used where a size is judged
// against the whole machine: the engine's default KV-cache budget (core/engine/engine.cc) and
// DecoderModel's refusal of a rotary table larger than memory (core/model/decoder_model.cc).
#ifndef EMBER_CORE_UTIL_SYSTEM_MEMORY_H_
#define EMBER_CORE_UTIL_SYSTEM_MEMORY_H_

#include <cstdint>
#include <optional>

namespace ember {

// Physical memory in bytes (sysconf _SC_PHYS_PAGES * _SC_PAGE_SIZE), or nullopt when the system
// does not report it: each caller decides what an unknown size means for it.
std::optional<int64_t> PhysicalMemoryBytes();

}  // namespace ember

#endif  // EMBER_CORE_UTIL_SYSTEM_MEMORY_H_
