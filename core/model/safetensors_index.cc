#include "core/model/safetensors_index.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/strict_json.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

using Json = nlohmann::json;

// Real indexes nest two levels; the slack lets unusual "metadata" contents through, since they are
// ignored.
constexpr int kMaxIndexDepth = 16;

bool IsPlainFileName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(absl::string_view("/\0", 2)) == absl::string_view::npos;
}

}  // namespace

absl::StatusOr<SafetensorsIndex> ParseSafetensorsIndex(absl::string_view text,
                                                       absl::string_view file_name) {
  ASSIGN_OR_RETURN(const Json root, ParseStrictJson(text, file_name, kMaxIndexDepth));
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": must be a JSON object, got ", DescribeJson(root)));
  }
  const auto weight_map = root.find("weight_map");
  if (weight_map == root.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": missing \"weight_map\" (tensor name -> shard file)"));
  }
  if (!weight_map->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name,
                     ": \"weight_map\" must be an object mapping tensor names to shard "
                     "files, got ",
                     DescribeJson(*weight_map)));
  }
  if (weight_map->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": \"weight_map\" is empty: the checkpoint has no tensors"));
  }

  SafetensorsIndex index;
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : weight_map->get_ref<const Json::object_t&>()) {
    const std::string where = absl::StrCat(file_name, ": \"weight_map\" entry \"", tensor, "\": ");
    if (!shard.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "shard must be a file name string, got ", DescribeJson(shard)));
    }
    std::string shard_name = shard.get<std::string>();
    if (!IsPlainFileName(shard_name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "shard \"", shard_name,
                       "\" must be a plain file name inside the model directory (no '/', not "
                       "\".\" or \"..\")"));
    }
    shards.insert(shard_name);
    index.weight_map.emplace(tensor, std::move(shard_name));
  }
  index.shards.assign(shards.begin(), shards.end());
  return index;
}

}  // namespace ember
