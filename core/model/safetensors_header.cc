#include "core/model/safetensors_header.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/model/strict_json.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

using Json = nlohmann::json;

// A valid header nests three levels: the top object, a tensor entry, its shape. A little slack lets
// a wrongly nested value reach the precise type checks below instead of the generic depth error.
constexpr int kMaxHeaderDepth = 8;
constexpr uint64_t kLengthBytes = 8;
constexpr absl::string_view kMetadataKey = "__metadata__";

// Safetensors dtypes ember does not compute in but can size, so their bytes can be accounted for in
// the layout check. Mirrors the Rust crate's Dtype enum minus the sub-byte types (F4, F6_*).
struct OtherDType {
  absl::string_view name;
  uint64_t size;
};
constexpr OtherDType kOtherDTypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1}, {"I16", 2},
    {"U16", 2},  {"I32", 4}, {"U32", 4}, {"F64", 8},     {"I64", 8},     {"U64", 8},     {"C64", 8},
};

std::string Offsets(uint64_t begin, uint64_t end) {
  return absl::StrCat("[", begin, ", ", end, "]");
}

std::string Offsets(const SafetensorsTensorInfo& info) { return Offsets(info.begin, info.end); }

// "<file>: tensor "<name>": ", the start of every per-tensor message.
std::string TensorWhere(absl::string_view file_name, absl::string_view tensor) {
  return absl::StrCat(file_name, ": tensor \"", tensor, "\": ");
}

// Sets info->dtype / returns the element size for `name`.
absl::StatusOr<uint64_t> ResolveDType(const std::string& where, const Json& value,
                                      SafetensorsTensorInfo* info) {
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "\"dtype\" must be a string, got ", DescribeJson(value)));
  }
  info->dtype_name = value.get<std::string>();
  if (absl::StatusOr<DType> dtype = ParseDType(info->dtype_name); dtype.ok()) {
    info->dtype = *dtype;
    return DTypeSize(*dtype);
  }
  for (const OtherDType& other : kOtherDTypes) {
    if (other.name == info->dtype_name) return other.size;
  }
  return absl::InvalidArgumentError(absl::StrCat(where, "unknown dtype \"", info->dtype_name,
                                                 "\" (not a safetensors dtype ember can size)"));
}

absl::StatusOr<Shape> ParseShape(const std::string& where, const Json& value) {
  if (!value.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "\"shape\" must be an array of integers, got ", DescribeJson(value)));
  }
  Shape shape;
  shape.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& dim = value[i];
    // Non-negative JSON integers parse as number_unsigned; negative ones as number_integer, and
    // anything with a '.', an exponent or more than 64 bits as number_float.
    if (!dim.is_number_unsigned() ||
        dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "\"shape\" dimension ", i, " is ", DescribeJson(dim),
                       ", but dimensions must be integers in [0, 2^63)"));
    }
    shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  return shape;
}

absl::Status ParseOffsets(const std::string& where, const Json& value,
                          SafetensorsTensorInfo* info) {
  if (!value.is_array() || value.size() != 2 || !value[0].is_number_unsigned() ||
      !value[1].is_number_unsigned()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "\"data_offsets\" must be an array of two non-negative integers, got ",
                     DescribeJson(value)));
  }
  info->begin = value[0].get<uint64_t>();
  info->end = value[1].get<uint64_t>();
  if (info->begin > info->end) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "data_offsets ", Offsets(*info), " are reversed (begin > end)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsTensorInfo> ParseTensorEntry(absl::string_view file_name,
                                                       const std::string& name, const Json& entry) {
  const std::string where = TensorWhere(file_name, name);
  if (!entry.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "entry must be an object with dtype, shape and data_offsets, got ",
                     DescribeJson(entry)));
  }
  for (const auto& [key, unused] : entry.get_ref<const Json::object_t&>()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "unknown key \"", key, "\" (an entry holds only dtype, shape and data_offsets)"));
    }
  }
  for (absl::string_view required : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(required)) {
      return absl::InvalidArgumentError(absl::StrCat(where, "missing \"", required, "\""));
    }
  }

  SafetensorsTensorInfo info;
  info.name = name;
  ASSIGN_OR_RETURN(const uint64_t element_size, ResolveDType(where, entry["dtype"], &info));
  ASSIGN_OR_RETURN(info.shape, ParseShape(where, entry["shape"]));
  RETURN_IF_ERROR(ParseOffsets(where, entry["data_offsets"], &info));

  absl::StatusOr<int64_t> elements = CheckedNumElements(info.shape);
  if (!elements.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, elements.status().message()));
  }
  const uint64_t count = static_cast<uint64_t>(*elements);
  if (count > std::numeric_limits<uint64_t>::max() / element_size) {
    return absl::InvalidArgumentError(absl::StrCat(where, "shape ", ShapeToString(info.shape),
                                                   " of ", info.dtype_name,
                                                   " needs more than 2^64 bytes"));
  }
  const uint64_t needed = count * element_size;
  if (info.num_bytes() != needed) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "data_offsets ", Offsets(info), " hold ", info.num_bytes(), " bytes but shape ",
        ShapeToString(info.shape), " of ", info.dtype_name, " needs ", needed));
  }
  return info;
}

absl::Status ParseMetadata(absl::string_view file_name, const Json& value,
                           std::map<std::string, std::string>* metadata) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": \"", kMetadataKey,
                     "\" must be an object mapping strings to strings, got ", DescribeJson(value)));
  }
  for (const auto& [key, item] : value.get_ref<const Json::object_t&>()) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(file_name, ": \"", kMetadataKey, "\" entry \"",
                                                     key, "\" is ", DescribeJson(item),
                                                     ", but metadata values must be strings"));
    }
    metadata->emplace(key, item.get<std::string>());
  }
  return absl::OkStatus();
}

// The tiling rule: sorted by (begin, end), each range starts where the previous one ended, the
// first at 0, and the last ends exactly at the end of the file.
absl::Status CheckLayout(absl::string_view file_name, uint64_t file_size,
                         const SafetensorsHeader& header) {
  std::vector<const SafetensorsTensorInfo*> order;
  order.reserve(header.tensors.size());
  for (const SafetensorsTensorInfo& info : header.tensors) order.push_back(&info);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
  });

  uint64_t expected = 0;
  const SafetensorsTensorInfo* previous = nullptr;
  for (const SafetensorsTensorInfo* info : order) {
    if (info->begin != expected) {
      const std::string where = TensorWhere(file_name, info->name);
      if (previous == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "data_offsets ", Offsets(*info), " start the data section at byte ", info->begin,
            " instead of 0: bytes [0, ", info->begin, ") belong to no tensor"));
      }
      if (info->begin < expected) {
        return absl::InvalidArgumentError(absl::StrCat(where, "data_offsets ", Offsets(*info),
                                                       " overlap tensor \"", previous->name,
                                                       "\" at data_offsets ", Offsets(*previous)));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(where, "data_offsets ", Offsets(*info), " leave a gap after tensor \"",
                       previous->name, "\" at data_offsets ", Offsets(*previous), ": bytes [",
                       expected, ", ", info->begin, ") belong to no tensor"));
    }
    expected = info->end;
    previous = info;
  }

  if (expected > header.data_bytes) {
    return absl::DataLossError(absl::StrCat(
        TensorWhere(file_name, previous->name), "data_offsets ", Offsets(*previous),
        " end past the data section, which holds only ", header.data_bytes, " bytes (file is ",
        file_size, " bytes, data starts at byte ", header.data_start, "): the file is truncated"));
  }
  if (expected < header.data_bytes) {
    if (previous == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ": the header lists no tensors but ", header.data_bytes, " bytes follow it"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": ", header.data_bytes - expected, " trailing bytes after the last tensor \"",
        previous->name, "\" (data_offsets ", Offsets(*previous), "; the data section holds ",
        header.data_bytes, " bytes) belong to no tensor"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> ParseSafetensorsHeaderLength(absl::string_view file_prefix,
                                                      uint64_t file_size,
                                                      absl::string_view file_name) {
  if (file_size < kLengthBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": file is ", file_size,
                     " bytes, too short for the 8-byte header length of a safetensors file"));
  }
  if (file_prefix.size() < kLengthBytes) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": only ", file_prefix.size(),
                                                   " bytes given, the header length needs 8"));
  }
  uint64_t length = 0;
  for (size_t i = 0; i < kLengthBytes; ++i) {
    length |= static_cast<uint64_t>(static_cast<unsigned char>(file_prefix[i])) << (8 * i);
  }
  if (length == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": header length is 0; the header must be a JSON object"));
  }
  if (length > kMaxSafetensorsHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": header length ", length,
                                                   " is larger than the limit of ",
                                                   kMaxSafetensorsHeaderBytes, " bytes"));
  }
  if (length > file_size - kLengthBytes) {
    return absl::DataLossError(absl::StrCat(file_name, ": header length ", length,
                                            " runs past the end of the file (", file_size,
                                            " bytes): the file is truncated"));
  }
  return length;
}

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view file_prefix,
                                                         uint64_t file_size,
                                                         absl::string_view file_name) {
  SafetensorsHeader header;
  ASSIGN_OR_RETURN(header.header_bytes,
                   ParseSafetensorsHeaderLength(file_prefix, file_size, file_name));
  header.data_start = kLengthBytes + header.header_bytes;
  header.data_bytes = file_size - header.data_start;
  if (file_prefix.size() < header.data_start) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": only ", file_prefix.size(),
                                                   " bytes given, the header needs ",
                                                   header.data_start));
  }

  const absl::string_view text = file_prefix.substr(kLengthBytes, header.header_bytes);
  if (text.front() != '{') {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: header starts with byte 0x%02x, not '{': not a safetensors file",
                        file_name, static_cast<unsigned char>(text.front())));
  }
  ASSIGN_OR_RETURN(const Json root,
                   ParseStrictJson(text, absl::StrCat(file_name, ": header"), kMaxHeaderDepth));
  if (!root.is_object()) {  // Unreachable after the '{' check; kept so the loop below is safe.
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": header is not a JSON object"));
  }

  // Json::object_t is a std::map, so tensors come out sorted by name.
  for (const auto& [key, value] : root.get_ref<const Json::object_t&>()) {
    if (key == kMetadataKey) {
      RETURN_IF_ERROR(ParseMetadata(file_name, value, &header.metadata));
      continue;
    }
    ASSIGN_OR_RETURN(SafetensorsTensorInfo info, ParseTensorEntry(file_name, key, value));
    header.tensors.push_back(std::move(info));
  }
  RETURN_IF_ERROR(CheckLayout(file_name, file_size, header));
  return header;
}

}  // namespace ember
