#include "tests/core/model/model_dir_edits.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/util/file_util.h"
#include "gtest/gtest.h"
#include "tests/test_util/safetensors_bytes.h"

namespace ember::testing {

std::string ModelDirEdits::Path(absl::string_view name) const { return JoinPath(dir_, name); }

std::string ModelDirEdits::Read(absl::string_view name) const {
  std::ifstream in(Path(name), std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << Path(name);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void ModelDirEdits::Write(absl::string_view name, absl::string_view bytes) const {
  std::ofstream out(Path(name), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) ADD_FAILURE() << "cannot write " << Path(name);
}

void ModelDirEdits::Remove(absl::string_view name) const {
  if (!std::filesystem::remove(Path(name))) ADD_FAILURE() << "no file to remove: " << Path(name);
}

void ModelDirEdits::EditJson(absl::string_view name,
                             const std::function<void(nlohmann::json&)>& edit) const {
  nlohmann::json json = nlohmann::json::parse(Read(name), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    ADD_FAILURE() << Path(name) << " is not JSON";
    return;
  }
  edit(json);
  Write(name, json.dump(2));
}

void ModelDirEdits::EditSafetensors(
    absl::string_view name,
    const std::function<void(nlohmann::json& header, std::string& data)>& edit) const {
  SafetensorsSections sections = SplitSafetensors(Read(name));
  nlohmann::json header = nlohmann::json::parse(sections.header, nullptr, false);
  if (header.is_discarded()) {
    ADD_FAILURE() << Path(name) << " has no JSON header";
    return;
  }
  edit(header, sections.data);
  Write(name, RawSafetensors(header.dump(), sections.data));
}

void ModelDirEdits::EditHeaderText(absl::string_view name,
                                   const std::function<void(std::string& text)>& edit) const {
  SafetensorsSections sections = SplitSafetensors(Read(name));
  edit(sections.header);
  Write(name, RawSafetensors(sections.header, sections.data));
}

void ModelDirEdits::PokeF32(absl::string_view name, absl::string_view tensor, int64_t index,
                            float value) const {
  EditSafetensors(name, [&](nlohmann::json& header, std::string& data) {
    const nlohmann::json& entry = header[std::string(tensor)];
    if (!entry.is_object() || entry["dtype"] != "F32") {
      ADD_FAILURE() << Path(name) << " has no F32 tensor " << tensor;
      return;
    }
    const size_t at = entry["data_offsets"][0].get<size_t>() + 4 * static_cast<size_t>(index);
    ASSERT_LE(at + 4, entry["data_offsets"][1].get<size_t>());
    std::memcpy(data.data() + at, &value, sizeof(value));
  });
}

void CopyModelDir(const std::string& src, const std::string& dst) {
  std::filesystem::create_directories(dst);
  for (const auto& entry : std::filesystem::directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    std::filesystem::copy_file(entry.path(), std::filesystem::path(dst) / entry.path().filename(),
                               std::filesystem::copy_options::overwrite_existing);
  }
}

SafetensorsSections SplitSafetensors(absl::string_view bytes) {
  SafetensorsSections sections;
  if (bytes.size() < 8) {
    ADD_FAILURE() << "not a safetensors file: " << bytes.size() << " bytes";
    return sections;
  }
  for (size_t i = 0; i < 8; ++i) {
    sections.header_length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i]))
                              << (8 * i);
  }
  if (sections.header_length > bytes.size() - 8) {
    ADD_FAILURE() << "header length " << sections.header_length << " past the end";
    return sections;
  }
  sections.header = std::string(bytes.substr(8, sections.header_length));
  sections.data = std::string(bytes.substr(8 + sections.header_length));
  return sections;
}

}  // namespace ember::testing
