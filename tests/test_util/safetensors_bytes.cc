#include "tests/test_util/safetensors_bytes.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace ember::testing {

std::string SafetensorsBytes(const std::vector<TensorSpec>& tensors,
                             const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const TensorSpec& tensor : tensors) {
    const size_t begin = data.size();
    data += tensor.data;
    header[tensor.name] = {
        {"dtype", tensor.dtype}, {"shape", tensor.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.resize((8 + text.size() + 7) / 8 * 8 - 8, ' ');
  return RawSafetensors(text, data);
}

std::string RawSafetensors(absl::string_view header, absl::string_view data) {
  return RawSafetensorsWithLength(header.size(), header, data);
}

std::string RawSafetensorsWithLength(uint64_t header_length, absl::string_view header,
                                     absl::string_view data) {
  return absl::StrCat(LittleEndianU64(header_length), header, data);
}

std::string LittleEndianU64(uint64_t value) {
  std::string bytes(8, '\0');
  for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

std::string F32Bytes(std::initializer_list<float> values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (values.size() > 0) std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

std::string U16Bytes(std::initializer_list<uint16_t> values) {
  std::string bytes;
  for (uint16_t v : values) {
    bytes.push_back(static_cast<char>(v & 0xff));
    bytes.push_back(static_cast<char>(v >> 8));
  }
  return bytes;
}

}  // namespace ember::testing
