// A thin wall around libsentencepiece, internal to core/tokenizer.
//
// Why it exists: libsentencepiece cannot be linked into ember's processes at all. Debian's build
// embeds and exports protobuf-lite 3.14, which collides with the system libprotobuf 3.21 that gRPC
// loads (a crash at start-up or a fatal version check, depending on load order). It is reached
// through libember_sentencepiece_shim.so, loaded with dlmopen() into a private link-map namespace
// (sentencepiece_shim/sentencepiece_shim.h). Its header also clashes with Abseil's string_view,
// so this header uses only the standard library.
//
// Where the shim is found: $EMBER_SENTENCEPIECE_SHIM, else next to the running executable, else
// in ../lib next to it, else where the build put it.
#ifndef EMBER_CORE_TOKENIZER_SENTENCEPIECE_BRIDGE_H_
#define EMBER_CORE_TOKENIZER_SENTENCEPIECE_BRIDGE_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ember::tokenizer_internal {

// The piece types of a SentencePiece model that the tokenizer treats differently. User-defined
// pieces are kNormal here: libsentencepiece already matches them inside text.
enum class SpmPieceKind { kNormal, kUnknown, kControl, kByte, kUnused };

// An immutable, loaded SentencePiece model. Every method is const and safe to call from many
// threads at once (libsentencepiece's Encode/Decode keep no mutable state).
class SpmBridge {
 public:
  // Parses a serialized ModelProto (the bytes of a tokenizer.model file). On failure returns null
  // and sets *error to libsentencepiece's message (or to why the shim could not be loaded).
  static std::unique_ptr<SpmBridge> Load(std::string_view serialized_model, std::string* error);

  ~SpmBridge();
  SpmBridge(const SpmBridge&) = delete;
  SpmBridge& operator=(const SpmBridge&) = delete;

  int PieceSize() const;
  // The piece string of `id`, which must be in [0, PieceSize()).
  const std::string& IdToPiece(int id) const;
  // The id of an exact piece string, or -1 when the model has no such piece.
  int PieceToId(std::string_view piece) const;
  SpmPieceKind Kind(int id) const;
  // Reserved ids; -1 when the model does not define one.
  int BosId() const;
  int EosId() const;

  // Normalizes and segments `text` (which libsentencepiece assumes is valid UTF-8). Control pieces
  // are never produced; user-defined pieces are. Returns false and sets *error on failure.
  bool Encode(std::string_view text, std::vector<int>* ids, std::string* error) const;

  // encode(text, out_type=str): the piece strings, where an unknown character appears as its own
  // text (MarianTokenizer maps these through its vocab.json). Returns false and sets *error on
  // failure.
  bool EncodeAsPieces(std::string_view text, std::vector<std::string>* pieces,
                      std::string* error) const;

  // libsentencepiece's detokenization of ids in [0, PieceSize()): "▁" becomes " ", the first
  // piece loses its leading "▁" (per the model's normalizer spec), runs of byte pieces are decoded
  // as UTF-8 with one U+FFFD per invalid byte, control pieces decode to "" and <unk> to the
  // model's unk surface. Returns false and sets *error on failure.
  bool Decode(const std::vector<int>& ids, std::string* text, std::string* error) const;

 private:
  explicit SpmBridge(void* model);

  void* model_;  // owned by the shim's namespace; freed through it
  std::vector<std::string> pieces_;
  std::vector<SpmPieceKind> kinds_;
  std::unordered_map<std::string, int> ids_;
  int bos_ = -1;
  int eos_ = -1;
};

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_SENTENCEPIECE_BRIDGE_H_
