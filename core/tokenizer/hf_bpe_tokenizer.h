// The Tokenizer for Hugging Face BPE tokenizers (tokenizer.json with a BPE model, or classic GPT-2
// vocab.json + merges.txt): added tokens -> normalizer -> pre-tokenizer -> BPE model ->
// post-processor, and ids -> tokens -> decoder. Internal to core/tokenizer; callers use the loaders
// in hf_tokenizer.h.
#ifndef EMBER_CORE_TOKENIZER_HF_BPE_TOKENIZER_H_
#define EMBER_CORE_TOKENIZER_HF_BPE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/decoder.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/post_processor.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

namespace ember::tokenizer_internal {

// Ids at or above this bound are rejected at load: no real vocabulary comes close (the largest
// are ~260k), and the id -> token table is sized by the largest id.
inline constexpr int64_t kMaxTokenId = int64_t{1} << 24;

// The parsed pieces of one tokenizer. Only `model` is required. `added_tokens` must already be
// checked by the loader: unique ids and contents, none clashing with a different model token.
struct HfBpeParts {
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added_tokens;
};

class HfBpeTokenizer final : public Tokenizer {
 public:
  // Fails only if normalizing the content of a normalized added token fails.
  static absl::StatusOr<std::unique_ptr<HfBpeTokenizer>> Create(HfBpeParts parts);

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override;
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override;
  int32_t VocabSize() const override { return static_cast<int32_t>(id_to_token_.size()); }
  std::optional<int32_t> TokenToId(absl::string_view token) const override;
  std::string IdToToken(int32_t id) const override;
  bool IsSpecial(int32_t id) const override;

  // True when `id` names a model or added token (not a hole in the id range).
  bool HasToken(int32_t id) const {
    return id >= 0 && id < VocabSize() && (id_flags_[id] & kPresent) != 0;
  }

 private:
  explicit HfBpeTokenizer(HfBpeParts parts) : parts_(std::move(parts)) {}

  // Matches normalized added tokens in already-normalized text, then encodes the rest.
  absl::Status EncodeNormalized(absl::string_view text, bool at_input_start,
                                std::vector<int32_t>* ids) const;
  // Pre-tokenizes and runs the model on text free of added tokens.
  absl::Status EncodePlain(absl::string_view text, bool at_input_start,
                           std::vector<int32_t>* ids) const;

  HfBpeParts parts_;
  // Added tokens matched in the raw input / in normalized text; both point into parts_.
  std::unique_ptr<AddedTokenMatcher> raw_matcher_;
  std::unique_ptr<AddedTokenMatcher> normalized_matcher_;
  absl::flat_hash_map<std::string, int32_t> added_ids_;
  // Indexed by id: the token string, whether the id names a token at all (vocabularies may have
  // holes), and whether it is a special added token.
  std::vector<std::string> id_to_token_;
  std::vector<uint8_t> id_flags_;
  static constexpr uint8_t kPresent = 1;
  static constexpr uint8_t kSpecial = 2;
};

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_HF_BPE_TOKENIZER_H_
