#include "core/tokenizer/sentencepiece_tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/sentencepiece_bridge.h"
#include "core/tokenizer/utf8.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

using tokenizer_internal::SpmBridge;
using tokenizer_internal::SpmPieceKind;

constexpr absl::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁", SentencePiece's space.

std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // A special piece as it may appear literally in text.
  struct SpecialPiece {
    std::string text;
    int32_t id;
  };
  // The piece AppendRun decodes first, and the text it decodes to.
  struct Anchor {
    int id;
    std::string text;
  };

  SentencePieceTokenizer(std::string name, std::unique_ptr<SpmBridge> spm, bool add_bos,
                         bool add_eos)
      : name_(std::move(name)), spm_(std::move(spm)), add_bos_(add_bos), add_eos_(add_eos) {
    const int size = spm_->PieceSize();
    is_special_.resize(size, false);
    for (int id = 0; id < size; ++id) {
      const SpmPieceKind kind = spm_->Kind(id);
      if (kind != SpmPieceKind::kControl && kind != SpmPieceKind::kUnknown) continue;
      is_special_[id] = true;
      if (!spm_->IdToPiece(id).empty()) specials_.push_back({spm_->IdToPiece(id), id});
    }
    // Longest first, so that "<|a|>" wins over a "<|a" that is also a piece.
    std::stable_sort(
        specials_.begin(), specials_.end(),
        [](const SpecialPiece& a, const SpecialPiece& b) { return a.text.size() > b.text.size(); });
    for (size_t i = 0; i < specials_.size(); ++i) {
      specials_by_first_byte_[static_cast<unsigned char>(specials_[i].text[0])].push_back(i);
    }
    anchor_ = FindAnchor();
  }

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    if (const size_t bad = tokenizer_internal::FindInvalidUtf8(text);
        bad != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": text to encode is not valid UTF-8 (byte ", bad, ")"));
    }
    std::vector<int32_t> ids;
    if (add_special_tokens && add_bos_) ids.push_back(spm_->BosId());
    size_t segment_start = 0;
    for (size_t pos = 0; pos < text.size();) {
      const SpecialPiece* special = MatchSpecialAt(text, pos);
      if (special == nullptr) {
        ++pos;
        continue;
      }
      RETURN_IF_ERROR(EncodeSegment(text.substr(segment_start, pos - segment_start), &ids));
      ids.push_back(special->id);
      pos += special->text.size();
      segment_start = pos;
    }
    RETURN_IF_ERROR(EncodeSegment(text.substr(segment_start), &ids));
    if (add_special_tokens && add_eos_) ids.push_back(spm_->EosId());
    return ids;
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override {
    for (const int32_t id : ids) {
      if (id < 0 || id >= VocabSize()) {
        return absl::InvalidArgumentError(absl::StrCat(
            name_, ": token id ", id, " is outside the vocabulary [0, ", VocabSize(), ")"));
      }
    }
    std::string text;
    std::vector<int> run;  // ordinary pieces since the last special token
    bool run_at_start = true;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!IsSpecial(ids[i])) {
        run.push_back(ids[i]);
        continue;
      }
      if (skip_special_tokens) continue;  // dropped before decoding, as Hugging Face does
      RETURN_IF_ERROR(AppendRun(run, run_at_start, &text));
      run.clear();
      run_at_start = false;
      absl::StrAppend(&text, spm_->IdToPiece(ids[i]));
    }
    RETURN_IF_ERROR(AppendRun(run, run_at_start, &text));
    // libsentencepiece copies piece text (and the unk surface) through unchecked, so a model
    // whose strings are not UTF-8 would break the contract that decoded text is valid UTF-8.
    if (tokenizer_internal::FindInvalidUtf8(text) != absl::string_view::npos) {
      text = tokenizer_internal::Utf8Lossy(text);
    }
    return text;
  }

  int32_t VocabSize() const override { return spm_->PieceSize(); }

  std::optional<int32_t> TokenToId(absl::string_view token) const override {
    const int id = spm_->PieceToId(ToStd(token));
    if (id < 0) return std::nullopt;
    return id;
  }

  std::string IdToToken(int32_t id) const override {
    if (id < 0 || id >= VocabSize()) return "";
    return spm_->IdToPiece(id);
  }

  bool IsSpecial(int32_t id) const override {
    return id >= 0 && id < VocabSize() && is_special_[id];
  }

 private:
  const SpecialPiece* MatchSpecialAt(absl::string_view text, size_t pos) const {
    for (const size_t i : specials_by_first_byte_[static_cast<unsigned char>(text[pos])]) {
      if (absl::StartsWith(text.substr(pos), specials_[i].text)) return &specials_[i];
    }
    return nullptr;
  }

  absl::Status EncodeSegment(absl::string_view segment, std::vector<int32_t>* ids) const {
    if (segment.empty()) return absl::OkStatus();
    std::vector<int> piece_ids;
    std::string error;
    if (!spm_->Encode(ToStd(segment), &piece_ids, &error)) {
      return absl::InternalError(absl::StrCat(name_, ": SentencePiece encode failed: ", error));
    }
    ids->insert(ids->end(), piece_ids.begin(), piece_ids.end());
    return absl::OkStatus();
  }

  // Appends the text of a run of ordinary pieces. Only a run at the very start of the sequence
  // loses its leading space; any other run is decoded after the anchor piece, whose own text is
  // then cut off, so that libsentencepiece's start-of-text rule does not apply to it.
  absl::Status AppendRun(const std::vector<int>& run, bool at_start, std::string* text) const {
    if (run.empty()) return absl::OkStatus();
    std::string decoded;
    std::string error;
    if (at_start || !anchor_.has_value()) {
      if (!spm_->Decode(run, &decoded, &error)) return DecodeError(error);
      absl::StrAppend(text, decoded);
      return absl::OkStatus();
    }
    std::vector<int> anchored;
    anchored.reserve(run.size() + 1);
    anchored.push_back(anchor_->id);
    anchored.insert(anchored.end(), run.begin(), run.end());
    if (!spm_->Decode(anchored, &decoded, &error)) return DecodeError(error);
    if (!absl::StartsWith(decoded, anchor_->text)) {
      return absl::InternalError(
          absl::StrCat(name_, ": decoding after the anchor piece did not start with its text"));
    }
    absl::StrAppend(text, absl::string_view(decoded).substr(anchor_->text.size()));
    return absl::OkStatus();
  }

  absl::Status DecodeError(const std::string& error) const {
    return absl::InternalError(absl::StrCat(name_, ": SentencePiece decode failed: ", error));
  }

  // An ordinary piece without "▁" whose text does not change when another piece follows it: e.g.
  // "a" or "e". Absent only for degenerate models (then later runs keep SentencePiece's
  // start-of-text rule).
  std::optional<Anchor> FindAnchor() const {
    std::string once, twice, error;
    for (int id = 0; id < spm_->PieceSize(); ++id) {
      const std::string& piece = spm_->IdToPiece(id);
      if (spm_->Kind(id) != SpmPieceKind::kNormal || piece.empty() ||
          absl::StrContains(piece, kSpaceSymbol)) {
        continue;
      }
      if (!spm_->Decode({id}, &once, &error) || once.empty()) continue;
      if (!spm_->Decode({id, id}, &twice, &error) || twice != once + once) continue;
      return Anchor{id, once};
    }
    return std::nullopt;
  }

  const std::string name_;
  const std::unique_ptr<SpmBridge> spm_;
  const bool add_bos_;
  const bool add_eos_;
  std::vector<bool> is_special_;  // [VocabSize()]
  std::vector<SpecialPiece> specials_;
  std::array<std::vector<size_t>, 256> specials_by_first_byte_;  // indices into specials_
  std::optional<Anchor> anchor_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> SentencePieceTokenizerFromBytes(
    absl::string_view model_bytes, absl::string_view name, const SentencePieceOptions& options) {
  std::string error;
  std::unique_ptr<SpmBridge> spm = SpmBridge::Load(ToStd(model_bytes), &error);
  if (spm == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": not a valid SentencePiece model: ", error));
  }
  const bool has_bos = spm->BosId() >= 0 && spm->BosId() < spm->PieceSize();
  const bool has_eos = spm->EosId() >= 0 && spm->EosId() < spm->PieceSize();
  const bool add_bos = options.add_bos.value_or(has_bos);
  const bool add_eos = options.add_eos.value_or(has_eos && !has_bos);
  if (add_bos && !has_bos) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": add_bos is set but the model defines no BOS piece"));
  }
  if (add_eos && !has_eos) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": add_eos is set but the model defines no EOS piece"));
  }
  return std::make_unique<SentencePieceTokenizer>(std::string(name), std::move(spm), add_bos,
                                                  add_eos);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(
    const std::string& path, const SentencePieceOptions& options) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path));
  return SentencePieceTokenizerFromBytes(bytes, path, options);
}

}  // namespace ember
