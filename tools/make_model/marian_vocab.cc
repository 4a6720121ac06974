#include "tools/make_model/marian_vocab.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "core/util/file_util.h"
#include "nlohmann/json.hpp"

#ifndef EMBER_MARIAN_SPM_DIR
#error "EMBER_MARIAN_SPM_DIR must be defined (tools/CMakeLists.txt)"
#endif

namespace ember::tools {
namespace {

// One field of a protobuf message in wire format.
struct WireField {
  uint64_t number = 0;
  uint64_t wire_type = 0;
  uint64_t varint = 0;        // wire type 0
  absl::string_view payload;  // wire type 2
};

// Reads the fields of one message in order; fixed-width values are skipped.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes) : bytes_(bytes) {}

  bool done() const { return pos_ == bytes_.size(); }

  // False on malformed input (truncated value, unknown wire type).
  bool Next(WireField& field) {
    uint64_t tag = 0;
    if (!ReadVarint(tag)) return false;
    field.number = tag >> 3;
    field.wire_type = tag & 7;
    field.payload = {};
    switch (field.wire_type) {
      case 0:
        return ReadVarint(field.varint);
      case 1:  // fixed64
        return Skip(8);
      case 2: {
        uint64_t size = 0;
        if (!ReadVarint(size) || size > bytes_.size() - pos_) return false;
        field.payload = bytes_.substr(pos_, size);
        pos_ += size;
        return true;
      }
      case 5:  // fixed32
        return Skip(4);
      default:  // groups (3, 4) are not used by SentencePiece
        return false;
    }
  }

 private:
  bool ReadVarint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == bytes_.size()) return false;
      const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  bool Skip(size_t n) {
    if (n > bytes_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  absl::string_view bytes_;
  size_t pos_ = 0;
};

// ModelProto.SentencePiece: piece = 1 (string), score = 2 (float), type = 3 (enum, default
// NORMAL).
absl::StatusOr<SpmPiece> ParsePiece(absl::string_view bytes) {
  SpmPiece piece;
  WireReader reader(bytes);
  WireField field;
  while (!reader.done()) {
    if (!reader.Next(field)) return absl::InvalidArgumentError("SentencePiece model: bad piece");
    if (field.number == 1 && field.wire_type == 2) piece.piece = std::string(field.payload);
    if (field.number == 3 && field.wire_type == 0) {
      piece.type = static_cast<SpmPieceType>(field.varint);
    }
  }
  return piece;
}

}  // namespace

absl::StatusOr<std::vector<SpmPiece>> ParseSpmPieces(absl::string_view model_bytes) {
  std::vector<SpmPiece> pieces;
  WireReader reader(model_bytes);
  while (!reader.done()) {
    WireField field;
    if (!reader.Next(field)) {
      return absl::InvalidArgumentError("SentencePiece model: malformed protobuf");
    }
    // ModelProto.pieces = 1; the trainer and normalizer specs and the rest are skipped.
    if (field.number != 1 || field.wire_type != 2) continue;
    absl::StatusOr<SpmPiece> piece = ParsePiece(field.payload);
    if (!piece.ok()) return piece.status();
    pieces.push_back(*std::move(piece));
  }
  if (pieces.empty()) return absl::InvalidArgumentError("SentencePiece model: no pieces");
  return pieces;
}

std::vector<std::string> MarianVocabPieces(const std::vector<SpmPiece>& source,
                                           const std::vector<SpmPiece>& target) {
  std::vector<std::string> out = {"</s>", "<unk>"};
  std::set<std::string> seen(out.begin(), out.end());
  seen.insert("<pad>");
  for (const std::vector<SpmPiece>* model : {&source, &target}) {
    for (const SpmPiece& p : *model) {
      if (p.type != SpmPieceType::kNormal && p.type != SpmPieceType::kUserDefined) continue;
      if (seen.insert(p.piece).second) out.push_back(p.piece);
    }
  }
  return out;
}

std::string MarianVocabJson(const std::vector<std::string>& pieces, int64_t vocab_size) {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (size_t id = 0; id < pieces.size(); ++id) vocab[pieces[id]] = id;
  vocab["<pad>"] = vocab_size - 1;
  // Python's json.dump escapes non-ASCII characters by default ("\u2581" for the word marker).
  return vocab.dump(2, ' ', /*ensure_ascii=*/true);
}

std::string DefaultMarianSpmDir() { return EMBER_MARIAN_SPM_DIR; }

absl::StatusOr<MarianSpm> LoadMarianSpm(const std::string& dir) {
  const std::string base = dir.empty() ? DefaultMarianSpmDir() : dir;
  MarianSpm spm;
  std::vector<SpmPiece> models[2];
  const std::pair<const char*, std::string*> files[] = {{"source.spm", &spm.source_bytes},
                                                        {"target.spm", &spm.target_bytes}};
  for (int i = 0; i < 2; ++i) {
    const std::string path = JoinPath(base, files[i].first);
    absl::StatusOr<std::string> bytes = ReadFileToString(path);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<std::vector<SpmPiece>> pieces = ParseSpmPieces(*bytes);
    if (!pieces.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", pieces.status().message()));
    }
    models[i] = *std::move(pieces);
    *files[i].second = *std::move(bytes);
  }
  spm.pieces = MarianVocabPieces(models[0], models[1]);
  return spm;
}

std::string MarianTokenizerConfigJson(int64_t model_max_length) {
  nlohmann::json c;  // sorted keys
  c["eos_token"] = "</s>";
  c["model_max_length"] = model_max_length;
  c["pad_token"] = "<pad>";
  c["separate_vocabs"] = false;
  c["source_lang"] = "en";
  c["sp_model_kwargs"] = nlohmann::json::object();
  c["target_lang"] = "de";
  c["tokenizer_class"] = "MarianTokenizer";
  c["unk_token"] = "<unk>";
  return c.dump(2) + "\n";
}

std::string MarianSpecialTokensMapJson() {
  nlohmann::json m;
  m["eos_token"] = "</s>";
  m["pad_token"] = "<pad>";
  m["unk_token"] = "<unk>";
  return m.dump(2) + "\n";
}

}  // namespace ember::tools
