#include "core/model/checkpoint.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/safetensors_index.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

absl::Status CheckDirectory(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
    return absl::ErrnoToStatus(error, absl::StrCat(dir, ": cannot stat"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": not a directory"));
  }
  return absl::OkStatus();
}

// Opens every shard the index names and checks that shards and index agree tensor for tensor.
// `files` comes back parallel to `index.shards`.
absl::Status OpenShards(const std::string& dir, const std::string& index_path,
                        const SafetensorsIndex& index,
                        std::vector<std::unique_ptr<SafetensorsFile>>* files) {
  for (const std::string& shard : index.shards) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::Open(JoinPath(dir, shard));
    if (!file.ok()) {
      return absl::Status(file.status().code(),
                          absl::StrCat(index_path, ": shard \"", shard,
                                       "\" cannot be loaded: ", file.status().message()));
    }
    files->push_back(*std::move(file));
  }

  for (const auto& [tensor, shard] : index.weight_map) {
    const auto it = std::lower_bound(index.shards.begin(), index.shards.end(), shard);
    const SafetensorsFile& file = *(*files)[static_cast<size_t>(it - index.shards.begin())];
    if (!file.Contains(tensor)) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": \"weight_map\" puts tensor \"",
                                                     tensor, "\" in shard \"", shard,
                                                     "\", which does not contain it"));
    }
  }
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& shard = index.shards[i];
    for (const SafetensorsTensorInfo& info : (*files)[i]->tensors()) {
      const auto it = index.weight_map.find(info.name);
      if (it == index.weight_map.end()) {
        return absl::InvalidArgumentError(absl::StrCat(index_path, ": shard \"", shard,
                                                       "\" holds tensor \"", info.name,
                                                       "\", which \"weight_map\" does not list"));
      }
      if (it->second != shard) {
        return absl::InvalidArgumentError(absl::StrCat(
            index_path, ": tensor \"", info.name, "\" is in shard \"", shard,
            "\" as well as in shard \"", it->second, "\", the one \"weight_map\" names"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& model_dir) {
  RETURN_IF_ERROR(CheckDirectory(model_dir));

  const std::string single_path = JoinPath(model_dir, kSingleFileName);
  if (FileExists(single_path)) {
    ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(single_path));
    std::vector<std::unique_ptr<SafetensorsFile>> files;
    files.push_back(std::move(file));
    return std::unique_ptr<Checkpoint>(new Checkpoint(
        model_dir, /*sharded=*/false, {std::string(kSingleFileName)}, std::move(files)));
  }

  const std::string index_path = JoinPath(model_dir, kIndexFileName);
  if (!FileExists(index_path)) {
    return absl::NotFoundError(absl::StrCat(model_dir, ": no checkpoint: looked for ",
                                            kSingleFileName, " and ", kIndexFileName));
  }
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(index_path, kMaxSafetensorsHeaderBytes));
  ASSIGN_OR_RETURN(const SafetensorsIndex index, ParseSafetensorsIndex(text, index_path));
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  RETURN_IF_ERROR(OpenShards(model_dir, index_path, index, &files));
  return std::unique_ptr<Checkpoint>(
      new Checkpoint(model_dir, /*sharded=*/true, index.shards, std::move(files)));
}

Checkpoint::Checkpoint(std::string dir, bool sharded, std::vector<std::string> file_names,
                       std::vector<std::unique_ptr<SafetensorsFile>> files)
    : dir_(std::move(dir)),
      sharded_(sharded),
      file_names_(std::move(file_names)),
      files_(std::move(files)) {
  // Open has checked that no tensor is in two files.
  for (size_t i = 0; i < files_.size(); ++i) {
    for (const SafetensorsTensorInfo& info : files_[i]->tensors()) {
      file_of_tensor_.emplace(info.name, i);
    }
  }
}

absl::StatusOr<TensorView> Checkpoint::Get(absl::string_view name) const {
  const auto it = file_of_tensor_.find(name);
  if (it == file_of_tensor_.end()) {
    return absl::NotFoundError(absl::StrCat(
        dir_, ": no tensor \"", name, "\" in ",
        sharded_ ? absl::StrCat("the ", files_.size(), " shards listed by ", kIndexFileName)
                 : std::string(kSingleFileName)));
  }
  return files_[it->second]->Get(name);
}

bool Checkpoint::Contains(absl::string_view name) const { return file_of_tensor_.contains(name); }

const SafetensorsTensorInfo* Checkpoint::Find(absl::string_view name) const {
  const auto it = file_of_tensor_.find(name);
  return it == file_of_tensor_.end() ? nullptr : files_[it->second]->Find(name);
}

std::vector<std::string> Checkpoint::TensorNames() const {
  std::vector<std::string> names;
  names.reserve(file_of_tensor_.size());
  for (const auto& [name, unused] : file_of_tensor_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::string_view Checkpoint::FileOf(absl::string_view name) const {
  const auto it = file_of_tensor_.find(name);
  return it == file_of_tensor_.end() ? absl::string_view() : file_names_[it->second];
}

}  // namespace ember
