// Builders for safetensors files in tests: valid ones from a tensor list, and deliberately corrupt
// ones from a raw header string, so each loader check can be hit by exactly one bad input.
#ifndef EMBER_TESTS_TEST_UTIL_SAFETENSORS_BYTES_H_
#define EMBER_TESTS_TEST_UTIL_SAFETENSORS_BYTES_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ember::testing {

// One tensor for SafetensorsBytes.
struct TensorSpec {
  std::string name;
  std::string dtype;           // as spelled in safetensors: "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;  // [] is a scalar
  std::string data;            // raw little-endian element bytes
};

// A valid safetensors file: tensors laid out back to back in the order given, header padded with
// spaces so the data section starts at a multiple of 8, as the reference writer does.
std::string SafetensorsBytes(const std::vector<TensorSpec>& tensors,
                             const std::map<std::string, std::string>& metadata = {});

// 8-byte little-endian header.size(), then `header`, then `data`: for hand-written (often broken)
// headers.
std::string RawSafetensors(absl::string_view header, absl::string_view data);

// Like RawSafetensors with an arbitrary (possibly lying) header length.
std::string RawSafetensorsWithLength(uint64_t header_length, absl::string_view header,
                                     absl::string_view data);

std::string LittleEndianU64(uint64_t value);

// Element bytes, little-endian.
std::string F32Bytes(std::initializer_list<float> values);
// 16-bit patterns, for F16 and BF16 tensors.
std::string U16Bytes(std::initializer_list<uint16_t> values);

}  // namespace ember::testing

#endif  // EMBER_TESTS_TEST_UTIL_SAFETENSORS_BYTES_H_
