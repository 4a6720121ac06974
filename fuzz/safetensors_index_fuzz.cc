// Fuzzes the shard index parser (model.safetensors.index.json, core/model/safetensors_index.h).
//
// Invariant: an accepted index maps at least one tensor, every shard it names is a plain file name
// inside the model directory (non-empty, not "." or "..", no '/' or NUL: a downloaded index must
// not make the server open another file), and `shards` is exactly the sorted, distinct set of the
// map's values. A rejected one gives INVALID_ARGUMENT naming the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/model/safetensors_index.h"
#include "fuzz/fuzz_util.h"

namespace {

constexpr absl::string_view kName = "model.safetensors.index.json";

bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const auto index = ember::ParseSafetensorsIndex(text, kName);
  if (!index.ok()) {
    EMBER_FUZZ_CHECK(index.status().code() == absl::StatusCode::kInvalidArgument &&
                         absl::StartsWith(index.status().message(), kName),
                     "unexpected error: ", index.status().ToString());
    return 0;
  }
  EMBER_FUZZ_CHECK(!index->weight_map.empty(), "accepted an index that maps no tensor");
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : index->weight_map) {
    EMBER_FUZZ_CHECK(IsPlainFileName(shard), "tensor ", tensor, " maps to shard \"", shard,
                     "\", which is not a plain file name");
    shards.insert(shard);
  }
  EMBER_FUZZ_CHECK(std::set<std::string>(index->shards.begin(), index->shards.end()) == shards &&
                       index->shards.size() == shards.size() &&
                       std::is_sorted(index->shards.begin(), index->shards.end()),
                   "shards is not the sorted set of the weight map's values");
  return 0;
}
