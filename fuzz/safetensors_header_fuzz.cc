// Fuzzes the safetensors header validator (core/model/safetensors_header.h) on whole files: the
// input is the file, so the seeds are real checkpoints and the mutations reach both the 8-byte
// length and the JSON.
//
// Invariant: an accepted header describes tensors that lie inside the data section, do not
// overlap, hold exactly elements * dtype size bytes, and together cover the data section exactly;
// a rejected one gives INVALID_ARGUMENT or DATA_LOSS with a message naming the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/model/safetensors_header.h"
#include "core/tensor/dtype.h"
#include "core/tensor/shape.h"
#include "fuzz/fuzz_util.h"

namespace ember {
namespace {

constexpr absl::string_view kName = "fuzz.safetensors";

void CheckAccepted(const SafetensorsHeader& header, uint64_t file_size) {
  EMBER_FUZZ_CHECK(header.data_start == 8 + header.header_bytes, "data_start ", header.data_start);
  EMBER_FUZZ_CHECK(header.data_start <= file_size, "data_start ", header.data_start,
                   " past the file's ", file_size, " bytes");
  EMBER_FUZZ_CHECK(header.data_bytes == file_size - header.data_start, "data_bytes ",
                   header.data_bytes);
  std::vector<const SafetensorsTensorInfo*> by_offset;
  for (const SafetensorsTensorInfo& t : header.tensors) {
    EMBER_FUZZ_CHECK(t.begin <= t.end && t.end <= header.data_bytes, "tensor ", t.name, " [",
                     t.begin, ", ", t.end, ") outside the data section of ", header.data_bytes,
                     " bytes");
    const absl::StatusOr<int64_t> elements = CheckedNumElements(t.shape);
    EMBER_FUZZ_CHECK(elements.ok(), "tensor ", t.name, " accepted with an overflowing shape");
    if (t.dtype.has_value()) {
      EMBER_FUZZ_CHECK(t.num_bytes() == static_cast<uint64_t>(*elements) * DTypeSize(*t.dtype),
                       "tensor ", t.name, ": ", t.num_bytes(), " bytes for ", *elements,
                       " elements of ", t.dtype_name);
    }
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->begin < b->begin || (a->begin == b->begin && a->end < b->end);
  });
  // Empty tensors own no byte, so only non-empty ranges can overlap.
  uint64_t covered = 0;
  const SafetensorsTensorInfo* furthest = nullptr;  // the non-empty range ending last so far
  for (const SafetensorsTensorInfo* t : by_offset) {
    if (t->num_bytes() == 0) continue;
    if (furthest != nullptr) {
      EMBER_FUZZ_CHECK(t->begin >= furthest->end, "tensor ", t->name, " [", t->begin, ", ", t->end,
                       ") overlaps ", furthest->name, " [", furthest->begin, ", ", furthest->end,
                       ")");
    }
    if (furthest == nullptr || t->end > furthest->end) furthest = t;
    covered += t->num_bytes();
  }
  EMBER_FUZZ_CHECK(covered == header.data_bytes, "tensors cover ", covered, " of ",
                   header.data_bytes, " data bytes");
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view file(reinterpret_cast<const char*>(data), size);
  const auto header = ember::ParseSafetensorsHeader(file, size, ember::kName);
  if (header.ok()) {
    ember::CheckAccepted(*header, size);
  } else {
    const absl::StatusCode code = header.status().code();
    EMBER_FUZZ_CHECK(
        code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kDataLoss,
        "unexpected code: ", header.status().ToString());
    EMBER_FUZZ_CHECK(absl::StartsWith(header.status().message(), ember::kName),
                     "message does not name the file: ", header.status().message());
  }
  return 0;
}
