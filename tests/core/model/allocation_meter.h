// Heap accounting for tests that must show a load is bounded by the bytes it was given, not by the
// sizes a hostile file declares.
//
// Two measures, because neither alone answers the question:
//   * PeakNewBytes: the high-water mark of bytes live through global operator new since
//     ResetPeak(). This binary replaces operator new/delete (allocation_meter.cc), so it sees every
//     C++ allocation (std::vector, std::string, the JSON DOM, Abseil containers) including the ones
//     a failing load frees again before returning, which an after-minus-before reading cannot.
//   * RetainedHeapBytes: bytes the malloc implementation holds for the program right now (ASan's
//     allocator statistics under ASan, glibc's mallinfo2 otherwise), which also covers direct
//     malloc callers; compared before and after a load it catches what a failing load leaks.
// Link allocation_meter.cc into one test executable only: replacing operator new is per program.
#ifndef EMBER_TESTS_CORE_MODEL_ALLOCATION_METER_H_
#define EMBER_TESTS_CORE_MODEL_ALLOCATION_METER_H_

#include <cstdint>

namespace ember::testing {

// Sets the peak to the bytes live right now.
void ResetPeakNewBytes();
// Bytes live through operator new now, and at most since the last ResetPeakNewBytes().
int64_t LiveNewBytes();
int64_t PeakNewBytes();

// Bytes currently allocated from the malloc heap (including mmapped chunks).
int64_t RetainedHeapBytes();

}  // namespace ember::testing

#endif  // EMBER_TESTS_CORE_MODEL_ALLOCATION_METER_H_
