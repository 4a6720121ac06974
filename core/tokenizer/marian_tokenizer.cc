#include "core/tokenizer/marian_tokenizer.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "core/tokenizer/sentencepiece_bridge.h"
#include "core/tokenizer/utf8.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace ember {
namespace {

using tokenizer_internal::SpmBridge;

// vocab.json of real models has ~60k entries; this bounds what a hostile file can make us read.
constexpr size_t kMaxVocabJsonBytes = size_t{64} << 20;
// Ids index dense tables: a vocab.json whose largest id is far beyond its entry count is refused
// rather than allocating for ids that do not exist.
constexpr int64_t kMaxIdSlack = int64_t{1} << 20;
constexpr absl::string_view kSpace = "\xE2\x96\x81";         // "▁", SentencePiece's space
constexpr absl::string_view kUnkSurface = " \xE2\x81\x87 ";  // " ⁇ ", its unknown's text

class MarianTokenizer final : public Tokenizer {
 public:
  MarianTokenizer(std::string dir, std::unique_ptr<SpmBridge> source,
                  std::unique_ptr<SpmBridge> target, std::vector<std::string> pieces,
                  absl::flat_hash_map<std::string, int32_t> ids)
      : dir_(std::move(dir)),
        source_(std::move(source)),
        target_(std::move(target)),
        pieces_(std::move(pieces)),
        ids_(std::move(ids)) {
    eos_ = ids_.at("</s>");
    unk_ = ids_.at("<unk>");
    is_special_.assign(pieces_.size(), false);
    for (const char* special : {"</s>", "<unk>", "<pad>"}) {
      const auto it = ids_.find(special);
      if (it == ids_.end()) continue;
      is_special_[static_cast<size_t>(it->second)] = true;
      specials_.push_back({special, it->second});
    }
  }

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    if (const size_t bad = tokenizer_internal::FindInvalidUtf8(text);
        bad != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir_, "/source.spm: text to encode is not valid UTF-8 (byte ", bad, ")"));
    }
    std::vector<int32_t> ids;
    size_t segment = 0;
    for (size_t pos = 0; pos < text.size();) {
      const Special* special = MatchSpecialAt(text, pos);
      if (special == nullptr) {
        ++pos;
        continue;
      }
      RETURN_IF_ERROR(EncodeSegment(text.substr(segment, pos - segment), ids));
      ids.push_back(special->id);
      pos += special->text.size();
      segment = pos;
    }
    RETURN_IF_ERROR(EncodeSegment(text.substr(segment), ids));
    if (add_special_tokens) ids.push_back(eos_);
    return ids;
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override {
    std::string out;
    std::vector<const std::string*> run;  // the pieces since the last special token
    for (const int32_t id : ids) {
      if (id < 0 || id >= VocabSize()) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", id, " is outside the vocabulary [0, ", VocabSize(), ")"));
      }
      if (is_special_[static_cast<size_t>(id)]) {
        if (skip_special_tokens) continue;
        RETURN_IF_ERROR(AppendRun(run, out));
        absl::StrAppend(&out, pieces_[static_cast<size_t>(id)], " ");
        continue;
      }
      run.push_back(&pieces_[static_cast<size_t>(id)]);
    }
    RETURN_IF_ERROR(AppendRun(run, out));
    return std::string(absl::StripAsciiWhitespace(out));
  }

  int32_t VocabSize() const override { return static_cast<int32_t>(pieces_.size()); }

  std::optional<int32_t> TokenToId(absl::string_view token) const override {
    const auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

  std::string IdToToken(int32_t id) const override {
    if (id < 0 || id >= VocabSize()) return "";
    return pieces_[static_cast<size_t>(id)];
  }

  bool IsSpecial(int32_t id) const override {
    return id >= 0 && id < VocabSize() && is_special_[static_cast<size_t>(id)];
  }

 private:
  struct Special {
    std::string text;
    int32_t id;
  };

  const Special* MatchSpecialAt(absl::string_view text, size_t pos) const {
    for (const Special& s : specials_) {
      if (text.substr(pos, s.text.size()) == s.text) return &s;
    }
    return nullptr;
  }

  absl::Status EncodeSegment(absl::string_view text, std::vector<int32_t>& ids) const {
    if (text.empty()) return absl::OkStatus();
    std::vector<std::string> pieces;
    std::string error;
    if (!source_->EncodeAsPieces(std::string_view(text.data(), text.size()), &pieces, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(dir_, "/source.spm: ", error));
    }
    for (const std::string& piece : pieces) {
      const auto it = ids_.find(piece);
      ids.push_back(it == ids_.end() ? unk_ : it->second);
    }
    return absl::OkStatus();
  }

  // sentencepiece's decode_pieces over a run of pieces between special tokens: a piece target.spm
  // knows is decoded by it (byte pieces, its unknown piece's surface), a piece it does not know
  // keeps its own text, and "▁" becomes a space. Runs after the first keep their leading space;
  // Decode strips the whole text's ends, as MarianTokenizer does.
  absl::Status AppendRun(std::vector<const std::string*>& run, std::string& out) const {
    if (run.empty()) return absl::OkStatus();
    std::string text;
    std::vector<int> known;
    auto flush_known = [&]() -> absl::Status {
      if (known.empty()) return absl::OkStatus();
      // sentencepiece drops the leading "▁" of the text it decodes; inside a run (after a piece
      // it does not know) that "▁" is a real space, so it is put back.
      const bool leading_space =
          !text.empty() && absl::StartsWith(target_->IdToPiece(known.front()), kSpace);
      std::string piece_text, error;
      if (!target_->Decode(known, &piece_text, &error)) {
        return absl::InternalError(absl::StrCat(dir_, "/target.spm: ", error));
      }
      if (leading_space && !absl::StartsWith(piece_text, " ")) text += ' ';
      text += piece_text;
      known.clear();
      return absl::OkStatus();
    };
    for (const std::string* piece : run) {
      const int id = piece->empty() ? -1 : target_->PieceToId(*piece);
      if (id >= 0) {
        known.push_back(id);
        continue;
      }
      RETURN_IF_ERROR(flush_known());
      text += absl::StrReplaceAll(piece->empty() ? kUnkSurface : *piece, {{kSpace, " "}});
    }
    RETURN_IF_ERROR(flush_known());
    out += text;
    run.clear();
    return absl::OkStatus();
  }

  const std::string dir_;
  std::unique_ptr<SpmBridge> source_;
  std::unique_ptr<SpmBridge> target_;
  std::vector<std::string> pieces_;  // [vocab size]: id -> piece ("" for ids vocab.json skips)
  absl::flat_hash_map<std::string, int32_t> ids_;
  std::vector<bool> is_special_;
  std::vector<Special> specials_;
  int32_t eos_ = 0;
  int32_t unk_ = 0;
};

absl::StatusOr<std::unique_ptr<SpmBridge>> LoadSpm(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path));
  std::string error;
  std::unique_ptr<SpmBridge> spm = SpmBridge::Load(bytes, &error);
  if (spm == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a SentencePiece model (", error, ")"));
  }
  return spm;
}

}  // namespace

bool HasMarianTokenizerFiles(const std::string& model_dir) {
  return FileExists(JoinPath(model_dir, "source.spm")) &&
         FileExists(JoinPath(model_dir, "target.spm")) &&
         FileExists(JoinPath(model_dir, "vocab.json"));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadMarianTokenizer(const std::string& model_dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<SpmBridge> source, LoadSpm(JoinPath(model_dir, "source.spm")));
  ASSIGN_OR_RETURN(std::unique_ptr<SpmBridge> target, LoadSpm(JoinPath(model_dir, "target.spm")));
  const std::string vocab_path = JoinPath(model_dir, "vocab.json");
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(vocab_path, kMaxVocabJsonBytes));
  const nlohmann::json vocab = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!vocab.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(vocab_path, ": expected a JSON object mapping pieces to ids"));
  }
  absl::flat_hash_map<std::string, int32_t> ids;
  int64_t max_id = -1;
  for (const auto& [piece, value] : vocab.items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() >= static_cast<int64_t>(vocab.size()) + kMaxIdSlack) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_path, ": the id of \"", piece, "\" must be an integer in [0, ",
                       static_cast<int64_t>(vocab.size()) + kMaxIdSlack, "), got ", value.dump()));
    }
    ids[piece] = static_cast<int32_t>(value.get<int64_t>());
    max_id = std::max(max_id, value.get<int64_t>());
  }
  std::vector<std::string> pieces(static_cast<size_t>(max_id + 1));
  std::vector<bool> taken(pieces.size(), false);
  for (const auto& [piece, id] : ids) {
    if (taken[static_cast<size_t>(id)]) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_path, ": id ", id, " is given to both \"",
                       pieces[static_cast<size_t>(id)], "\" and \"", piece, "\""));
    }
    taken[static_cast<size_t>(id)] = true;
    pieces[static_cast<size_t>(id)] = piece;
  }
  for (const char* required : {"</s>", "<unk>"}) {
    if (!ids.contains(required)) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_path, ": has no \"", required, "\" entry"));
    }
  }
  return std::unique_ptr<Tokenizer>(new MarianTokenizer(
      model_dir, std::move(source), std::move(target), std::move(pieces), std::move(ids)));
}

}  // namespace ember
