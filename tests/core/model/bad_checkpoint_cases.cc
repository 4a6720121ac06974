// Bad safetensors files and checkpoints: what each case breaks and what the load must report.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/core/model/bad_model_cases.h"
#include "tests/test_util/safetensors_bytes.h"

namespace ember {
namespace {

using absl::StatusCode;
using testing::ModelDirEdits;
using Json = nlohmann::json;

constexpr char kFile[] = "model.safetensors";
constexpr char kIndex[] = "model.safetensors.index.json";
constexpr char kShard1[] = "model-00001-of-00002.safetensors";
constexpr char kShard2[] = "model-00002-of-00002.safetensors";
// In the writer's data order (by name) lm_head.weight comes first and model.norm.weight last.
constexpr char kFirst[] = "lm_head.weight";
constexpr char kLast[] = "model.norm.weight";
constexpr char kQ[] = "model.layers.0.self_attn.q_proj.weight";
constexpr char kUp[] = "model.layers.0.mlp.up_proj.weight";
constexpr char kOut[] = "model.layers.1.self_attn.o_proj.weight";
constexpr char kEmbed[] = "model.embed_tokens.weight";  // in shard 1; lm_head.weight in shard 2

constexpr uint64_t kTwoTo40 = uint64_t{1} << 40;
constexpr uint64_t kTwoTo63 = uint64_t{1} << 63;

std::string Tensor(const std::string& name) { return absl::StrCat("tensor \"", name, "\""); }

// Inserts `text` right after the first occurrence of `anchor`.
void InsertAfter(std::string& in, const std::string& anchor, const std::string& text) {
  const size_t at = in.find(anchor);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no " << anchor << " in " << in.substr(0, 200);
    return;
  }
  in.insert(at + anchor.size(), text);
}

// Rewrites model.safetensors with the 8-byte length `length` in front of its unchanged bytes.
void SetHeaderLength(const ModelDirEdits& model, uint64_t length) {
  const std::string bytes = model.Read(kFile);
  model.Write(kFile, absl::StrCat(testing::LittleEndianU64(length), bytes.substr(8)));
}

// Edits one tensor entry of a safetensors file's header.
void EditEntry(const ModelDirEdits& model, const std::string& file, const std::string& tensor,
               const std::function<void(Json&)>& edit) {
  model.EditSafetensors(file, [&](Json& header, std::string&) {
    if (!header.contains(tensor)) {
      ADD_FAILURE() << file << " has no " << tensor;
      return;
    }
    edit(header[tensor]);
  });
}

void EditLast(const ModelDirEdits& model, const std::function<void(Json&)>& edit) {
  EditEntry(model, kFile, kLast, edit);
}

// Moves kLast's byte range by `delta` (its size is kept).
void ShiftLast(const ModelDirEdits& model, int64_t delta) {
  EditLast(model, [delta](Json& entry) {
    entry["data_offsets"][0] = entry["data_offsets"][0].get<int64_t>() + delta;
    entry["data_offsets"][1] = entry["data_offsets"][1].get<int64_t>() + delta;
  });
}

// Renames a tensor in a safetensors file (its bytes stay where they are).
void RenameTensor(const ModelDirEdits& model, const std::string& file, const std::string& from,
                  const std::string& to) {
  model.EditSafetensors(file, [&](Json& header, std::string&) {
    header[to] = header[from];
    header.erase(from);
  });
}

// Appends a copy of `tensor` under `name` (to `file`'s header and data).
void AddTensorCopy(const ModelDirEdits& model, const std::string& file, const Json& entry,
                   const std::string& name) {
  model.EditSafetensors(file, [&](Json& header, std::string& data) {
    const uint64_t size =
        entry["data_offsets"][1].get<uint64_t>() - entry["data_offsets"][0].get<uint64_t>();
    header[name] = entry;
    header[name]["data_offsets"] = {data.size(), data.size() + size};
    data.append(size, '\0');
  });
}

Json EntryOf(const ModelDirEdits& model, const std::string& file, const std::string& tensor) {
  return Json::parse(testing::SplitSafetensors(model.Read(file)).header)[tensor];
}

void EditWeightMap(const ModelDirEdits& model, const std::function<void(Json&)>& edit) {
  model.EditJson(kIndex, [&](Json& index) { edit(index["weight_map"]); });
}

}  // namespace

std::vector<BadModelCase> SafetensorsFileCases() {
  const ModelLayout single = ModelLayout::kSingleFile;
  return {
      // Framing: the 8-byte header length.
      {"EmptyFile",
       single,
       [](const ModelDirEdits& m) { m.Write(kFile, ""); },
       StatusCode::kInvalidArgument,
       kFile,
       {"file is 0 bytes", "8-byte header length"}},
      {"FileShorterThan8Bytes",
       single,
       [](const ModelDirEdits& m) { m.Write(kFile, std::string("\x10\0\0", 3)); },
       StatusCode::kInvalidArgument,
       kFile,
       {"file is 3 bytes", "8-byte header length"}},
      {"HeaderLengthZero",
       single,
       [](const ModelDirEdits& m) { SetHeaderLength(m, 0); },
       StatusCode::kInvalidArgument,
       kFile,
       {"header length is 0"}},
      {"HeaderLengthPastTheFile",
       single,
       [](const ModelDirEdits& m) { SetHeaderLength(m, m.Read(kFile).size()); },
       StatusCode::kDataLoss,
       kFile,
       {"header length", "runs past the end of the file"}},
      {"HeaderLengthTwoTo63",
       single,
       [](const ModelDirEdits& m) { SetHeaderLength(m, kTwoTo63); },
       StatusCode::kInvalidArgument,
       kFile,
       {"header length 9223372036854775808", "larger than the limit"}},
      {"HeaderLengthMaxU64",
       single,
       [](const ModelDirEdits& m) { SetHeaderLength(m, std::numeric_limits<uint64_t>::max()); },
       StatusCode::kInvalidArgument,
       kFile,
       {"header length 18446744073709551615"}},
      // The header text.
      {"HeaderNotStartingWithBrace",
       single,
       [](const ModelDirEdits& m) { m.EditHeaderText(kFile, [](std::string& t) { t[0] = '['; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {"header starts with byte 0x5b"}},
      {"HeaderLeadingSpace",
       single,
       [](const ModelDirEdits& m) { m.EditHeaderText(kFile, [](std::string& t) { t = " " + t; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {"header starts with byte 0x20"}},
      {"HeaderInvalidUtf8",
       single,
       [](const ModelDirEdits& m) {
         m.EditHeaderText(kFile, [](std::string& t) { InsertAfter(t, "\"model.norm", "\xC3("); });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"header", "not valid UTF-8 at byte"}},
      {"HeaderInvalidJson",
       single,
       [](const ModelDirEdits& m) {
         m.EditHeaderText(kFile, [](std::string& t) { t.erase(t.find_last_of('}')); });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"header", "invalid JSON at byte"}},
      {"HeaderNulByte",
       single,
       [](const ModelDirEdits& m) {
         m.EditHeaderText(kFile, [](std::string& t) { InsertAfter(t, "{", std::string(1, '\0')); });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"header", "NUL byte"}},
      {"HeaderNestedTooDeep",
       single,
       [](const ModelDirEdits& m) {
         m.EditHeaderText(
             kFile, [](std::string& t) { InsertAfter(t, "{", "\"x\":[[[[[[[[[[]]]]]]]]]],"); });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"nested more than 8 levels", "\"/x"}},
      {"DuplicateTensorName",
       single,
       [](const ModelDirEdits& m) {
         m.EditHeaderText(kFile, [](std::string& t) {
           InsertAfter(t, "{",
                       "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],"
                       "\"data_offsets\":[0,256]},");
         });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"duplicate key \"model.norm.weight\""}},
      {"DuplicateKeyInTensorEntry",
       single,
       [](const ModelDirEdits& m) {
         m.EditHeaderText(kFile, [](std::string& t) {
           InsertAfter(t, "\"model.norm.weight\":{", "\"dtype\":\"F32\",");
         });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"duplicate key \"dtype\"", "/model.norm.weight"}},
      {"MetadataValueNotAString",
       single,
       [](const ModelDirEdits& m) {
         m.EditSafetensors(kFile, [](Json& h, std::string&) { h["__metadata__"]["format"] = 1; });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {"\"__metadata__\" entry \"format\""}},
      // One tensor entry.
      {"TensorEntryNotAnObject",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e = 5; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "entry must be an object"}},
      {"UnknownKeyInTensorEntry",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["offset"] = 0; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "unknown key \"offset\""}},
      {"MissingDataOffsets",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e.erase("data_offsets"); }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "missing \"data_offsets\""}},
      {"UnknownDtype",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["dtype"] = "F17"; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "unknown dtype \"F17\""}},
      {"DtypeNotAString",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["dtype"] = 32; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "\"dtype\" must be a string"}},
      {"WeightInUnsupportedDtype",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["dtype"] = "I32"; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "dtype \"I32\" is not supported"}},
      {"NegativeDimension",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["shape"] = {-64}; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "\"shape\" dimension 0 is number -64"}},
      {"FractionalDimension",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["shape"] = {64.5}; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "\"shape\" dimension 0 is number 64.5"}},
      {"DimensionTwoTo63",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["shape"] = {kTwoTo63}; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "integers in [0, 2^63)"}},
      {"DimensionNotANumber",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["shape"] = {"64"}; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "\"shape\" dimension 0 is string"}},
      {"ShapeNotAnArray",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["shape"] = 64; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "\"shape\" must be an array"}},
      {"ElementCountOverflows64Bits",
       single,
       [](const ModelDirEdits& m) {
         EditLast(m, [](Json& e) { e["shape"] = {uint64_t{1} << 32, uint64_t{1} << 32}; });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "more than 2^63 elements"}},
      {"ByteCountOverflows64Bits",
       single,
       [](const ModelDirEdits& m) {
         EditLast(m, [](Json& e) { e["shape"] = {uint64_t{1} << 62}; });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "needs more than 2^64 bytes"}},
      {"HugeTensorInSmallFile",
       single,
       [](const ModelDirEdits& m) {
         EditLast(m, [](Json& e) {
           const uint64_t begin = e["data_offsets"][0].get<uint64_t>();
           e["shape"] = {kTwoTo40};
           e["data_offsets"] = {begin, begin + 4 * kTwoTo40};
         });
       },
       StatusCode::kDataLoss,
       kFile,
       {Tensor(kLast), "end past the data section", "truncated"}},
      // Byte ranges.
      {"DataOffsetsNotTwoIntegers",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["data_offsets"] = {0}; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "\"data_offsets\" must be an array"}},
      {"DataOffsetsNegative",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["data_offsets"][0] = -4; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "two non-negative integers"}},
      {"DataOffsetsReversed",
       single,
       [](const ModelDirEdits& m) {
         EditLast(m, [](Json& e) {
           e["data_offsets"] = {e["data_offsets"][1], e["data_offsets"][0]};
         });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "are reversed (begin > end)"}},
      {"DataOffsetsOverlap",
       single,
       [](const ModelDirEdits& m) { ShiftLast(m, -4); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "overlap tensor"}},
      {"DataOffsetsLeaveAGap",
       single,
       [](const ModelDirEdits& m) { ShiftLast(m, 4); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "leave a gap after tensor"}},
      {"DataOffsetsStartPastZero",
       single,
       [](const ModelDirEdits& m) {
         m.EditSafetensors(kFile, [](Json& header, std::string& data) {
           for (auto& [name, entry] : header.items()) {
             if (name == "__metadata__") continue;
             entry["data_offsets"] = {entry["data_offsets"][0].get<uint64_t>() + 4,
                                      entry["data_offsets"][1].get<uint64_t>() + 4};
           }
           data.insert(0, 4, '\0');
         });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kFirst), "at byte 4 instead of 0"}},
      {"RangeSizeNotElementsTimesDtype",
       single,
       [](const ModelDirEdits& m) { EditLast(m, [](Json& e) { e["shape"] = {63}; }); },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kLast), "hold 256 bytes but shape [63]"}},
      {"TrailingBytesAfterData",
       single,
       [](const ModelDirEdits& m) { m.Write(kFile, m.Read(kFile) + std::string(16, '\0')); },
       StatusCode::kInvalidArgument,
       kFile,
       {"16 trailing bytes after the last tensor", kLast}},
      {"TruncatedData",
       single,
       [](const ModelDirEdits& m) {
         const std::string bytes = m.Read(kFile);
         m.Write(kFile, bytes.substr(0, bytes.size() - 100));
       },
       StatusCode::kDataLoss,
       kFile,
       {Tensor(kLast), "the file is truncated"}},
  };
}

std::vector<BadModelCase> CheckpointCases() {
  const ModelLayout single = ModelLayout::kSingleFile;
  const ModelLayout sharded = ModelLayout::kSharded;
  return {
      // The tensors against config.json.
      {"TensorShapeDiffersFromConfig",
       single,
       [](const ModelDirEdits& m) {
         EditEntry(m, kFile, kQ, [](Json& e) { e["shape"] = {32, 128}; });
       },
       StatusCode::kInvalidArgument,
       kFile,
       {Tensor(kQ), "has shape [32, 128] but config.json implies [64, 64]"}},
      {"MissingTensor",
       single,
       [](const ModelDirEdits& m) { RenameTensor(m, kFile, kUp, "renamed"); },
       StatusCode::kNotFound,
       "",
       {absl::StrCat("no tensor \"", kUp, "\" in ", kFile)}},
      {"MissingLmHead",
       single,
       [](const ModelDirEdits& m) { RenameTensor(m, kFile, kFirst, "lm_head.weights"); },
       StatusCode::kNotFound,
       "",
       {"no tensor \"lm_head.weight\" in model.safetensors"}},
      {"NoCheckpointAtAll",
       single,
       [](const ModelDirEdits& m) { m.Remove(kFile); },
       StatusCode::kNotFound,
       "",
       {"no checkpoint: looked for model.safetensors and model.safetensors.index.json"}},
      // Defects a loader accepts, as transformers does, with a warning naming the tensor.
      {"NanInProjectionLoadsWithWarning",
       single,
       [](const ModelDirEdits& m) { m.PokeF32(kFile, kOut, 5, std::nanf("")); },
       StatusCode::kOk,
       kFile,
       {Tensor(kOut), "1 non-finite value(s)"}},
      {"NanInStackedProjectionLoadsWithWarning",
       single,
       [](const ModelDirEdits& m) { m.PokeF32(kFile, kUp, 7, -std::nanf("")); },
       StatusCode::kOk,
       kFile,
       {Tensor(kUp), "1 non-finite value(s)"}},
      {"InfInNormLoadsWithWarning",
       single,
       [](const ModelDirEdits& m) {
         m.PokeF32(kFile, kLast, 0, std::numeric_limits<float>::infinity());
         m.PokeF32(kFile, kLast, 63, -std::numeric_limits<float>::infinity());
       },
       StatusCode::kOk,
       kFile,
       {Tensor(kLast), "2 non-finite value(s)"}},
      {"UnusedTensorLoadsWithWarning",
       single,
       [](const ModelDirEdits& m) {
         AddTensorCopy(m, kFile, EntryOf(m, kFile, kLast), "some.unknown.tensor");
       },
       StatusCode::kOk,
       "",
       {"not used by the architecture", "some.unknown.tensor"}},
      // The shard index.
      {"IndexNotJson",
       sharded,
       [](const ModelDirEdits& m) { m.Write(kIndex, "{\"weight_map\": "); },
       StatusCode::kInvalidArgument,
       kIndex,
       {"invalid JSON"}},
      {"IndexNotAnObject",
       sharded,
       [](const ModelDirEdits& m) { m.Write(kIndex, "[]"); },
       StatusCode::kInvalidArgument,
       kIndex,
       {"must be a JSON object"}},
      {"IndexWithoutWeightMap",
       sharded,
       [](const ModelDirEdits& m) { m.EditJson(kIndex, [](Json& j) { j.erase("weight_map"); }); },
       StatusCode::kInvalidArgument,
       kIndex,
       {"missing \"weight_map\""}},
      {"IndexEmptyWeightMap",
       sharded,
       [](const ModelDirEdits& m) { EditWeightMap(m, [](Json& w) { w = Json::object(); }); },
       StatusCode::kInvalidArgument,
       kIndex,
       {"\"weight_map\" is empty"}},
      {"IndexListsTensorTwice",
       sharded,
       [](const ModelDirEdits& m) {
         std::string text = m.Read(kIndex);
         InsertAfter(text, "\"weight_map\": {",
                     absl::StrCat("\"", kFirst, "\": \"", kShard1, "\","));
         m.Write(kIndex, text);
       },
       StatusCode::kInvalidArgument,
       kIndex,
       {"duplicate key \"lm_head.weight\"", "/weight_map"}},
      {"IndexShardNotAString",
       sharded,
       [](const ModelDirEdits& m) { EditWeightMap(m, [](Json& w) { w[kFirst] = 2; }); },
       StatusCode::kInvalidArgument,
       kIndex,
       {"entry \"lm_head.weight\"", "must be a file name"}},
      {"IndexNamesMissingShard",
       sharded,
       [](const ModelDirEdits& m) {
         EditWeightMap(m, [](Json& w) { w[kFirst] = "model-00003-of-00003.safetensors"; });
       },
       StatusCode::kNotFound,
       kIndex,
       {"shard \"model-00003-of-00003.safetensors\" cannot be loaded", "no such file"}},
      {"IndexShardOutsideModelDir",
       sharded,
       [](const ModelDirEdits& m) {
         EditWeightMap(m, [](Json& w) { w[kFirst] = "../x.safetensors"; });
       },
       StatusCode::kInvalidArgument,
       kIndex,
       {"entry \"lm_head.weight\"", "\"../x.safetensors\" must be a plain file name"}},
      {"IndexShardAbsolutePath",
       sharded,
       [](const ModelDirEdits& m) { EditWeightMap(m, [](Json& w) { w[kFirst] = "/etc/passwd"; }); },
       StatusCode::kInvalidArgument,
       kIndex,
       {"entry \"lm_head.weight\"", "\"/etc/passwd\" must be a plain file name"}},
      {"IndexPutsTensorInWrongShard",
       sharded,
       [](const ModelDirEdits& m) { EditWeightMap(m, [](Json& w) { w[kEmbed] = kShard2; }); },
       StatusCode::kInvalidArgument,
       kIndex,
       {Tensor(kEmbed), absl::StrCat("in shard \"", kShard2, "\", which does not contain it")}},
      {"ShardTensorMissingFromIndex",
       sharded,
       [](const ModelDirEdits& m) { EditWeightMap(m, [](Json& w) { w.erase(kFirst); }); },
       StatusCode::kInvalidArgument,
       kIndex,
       {Tensor(kFirst), "which \"weight_map\" does not list"}},
      {"TensorInTwoShards",
       sharded,
       [](const ModelDirEdits& m) {
         AddTensorCopy(m, kShard1, EntryOf(m, kShard2, kFirst), kFirst);
       },
       StatusCode::kInvalidArgument,
       kIndex,
       {Tensor(kFirst),
        absl::StrCat("is in shard \"", kShard1, "\" as well as in shard \"", kShard2, "\"")}},
      {"RequiredTensorInNoShard",
       sharded,
       [](const ModelDirEdits& m) {
         RenameTensor(m, kShard2, kFirst, "lm_head.weights");
         EditWeightMap(m, [](Json& w) {
           w.erase(kFirst);
           w["lm_head.weights"] = kShard2;
         });
       },
       StatusCode::kNotFound,
       "",
       {"no tensor \"lm_head.weight\" in any shard listed by model.safetensors.index.json"}},
      {"ShardWithBadTensorEntry",
       sharded,
       [](const ModelDirEdits& m) {
         EditEntry(m, kShard2, kFirst, [](Json& e) { e["dtype"] = "F17"; });
       },
       StatusCode::kInvalidArgument,
       kShard2,
       {kIndex, Tensor(kFirst), "unknown dtype \"F17\""}},
      {"ShardTruncated",
       sharded,
       [](const ModelDirEdits& m) {
         const std::string bytes = m.Read(kShard2);
         m.Write(kShard2, bytes.substr(0, bytes.size() / 2));
       },
       StatusCode::kDataLoss,
       kShard2,
       {kIndex, "the file is truncated"}},
  };
}

}  // namespace ember
