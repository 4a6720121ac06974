// The tokenizer side of a Marian model directory: the pieces of the SentencePiece models
// (source.spm, target.spm) and the vocab.json that MarianTokenizer maps them through.
#ifndef EMBER_TOOLS_MAKE_MODEL_MARIAN_VOCAB_H_
#define EMBER_TOOLS_MAKE_MODEL_MARIAN_VOCAB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::tools {

// SentencePiece's ModelProto.SentencePiece.Type values.
enum class SpmPieceType {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SpmPiece {
  std::string piece;
  SpmPieceType type = SpmPieceType::kNormal;
};

// The pieces of a serialized SentencePiece ModelProto (the bytes of a .spm / .model file), in id
// order. Only the `pieces` field is read, with a minimal protobuf wire-format reader: linking
// libsentencepiece (even through core/tokenizer's dlmopen shim) would make the generator depend
// on a runtime-loaded module just to list strings. INVALID_ARGUMENT on malformed bytes.
absl::StatusOr<std::vector<SpmPiece>> ParseSpmPieces(absl::string_view model_bytes);

// The entries of vocab.json before <pad>, in id order: "</s>" (0), "<unk>" (1), every normal and
// user-defined piece of `source` in id order, then those of `target` not already present.
std::vector<std::string> MarianVocabPieces(const std::vector<SpmPiece>& source,
                                           const std::vector<SpmPiece>& target);

// vocab.json as MarianTokenizer.save_vocabulary writes it (json.dump(indent=2), ASCII escapes,
// insertion = id order): `pieces` at ids 0.., then "<pad>" at vocab_size - 1, which must be
// >= pieces.size().
std::string MarianVocabJson(const std::vector<std::string>& pieces, int64_t vocab_size);

// The SentencePiece models of a Marian checkpoint and the vocabulary built from them.
struct MarianSpm {
  std::string source_bytes;  // source.spm
  std::string target_bytes;  // target.spm
  // MarianVocabPieces of the two models (vocab.json before <pad>).
  std::vector<std::string> pieces;
};

// Reads `dir`/source.spm and `dir`/target.spm. An empty `dir` means DefaultMarianSpmDir().
absl::StatusOr<MarianSpm> LoadMarianSpm(const std::string& dir);

// tools/spm_fixtures/marian in the source tree this generator was built from (compiled in, like
// the tests find their data): the models tools/spm_fixtures/marian/make_marian_spm.sh trains.
std::string DefaultMarianSpmDir();

// tokenizer_config.json's model_max_length, as opus-mt's tokenizers declare it (whatever the
// model's max_position_embeddings).
inline constexpr int64_t kMarianModelMaxLength = 512;

// tokenizer_config.json and special_tokens_map.json of an en -> de MarianTokenizer with one
// shared vocabulary.
std::string MarianTokenizerConfigJson(int64_t model_max_length);
std::string MarianSpecialTokensMapJson();

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_MARIAN_VOCAB_H_
