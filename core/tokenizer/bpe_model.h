// The BPE model of tokenizer.json (`model.type == "BPE"`): vocabulary, ranked merges, unknown-token
// and byte-fallback handling, with a bounded per-piece cache. Mirrors `tokenizers`'
// models/bpe (merge_word + Word::merge_all). Internal to core/tokenizer.
#ifndef EMBER_CORE_TOKENIZER_BPE_MODEL_H_
#define EMBER_CORE_TOKENIZER_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ember::tokenizer_internal {

struct BpeOptions {
  // Token emitted for characters missing from the vocabulary (after byte fallback); nullopt drops
  // such characters, as tokenizers does.
  std::optional<std::string> unk_token;
  // Prefix glued to every non-initial character / suffix glued to the last character of a piece
  // before lookup (subword-nmt style); nullopt for none.
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  // Consecutive unknown characters become a single unk token.
  bool fuse_unk = false;
  // Characters missing from the vocabulary become their UTF-8 bytes as "<0xNN>" tokens when all of
  // those exist.
  bool byte_fallback = false;
  // A piece that is itself a vocabulary entry is emitted as that entry without merging (Llama 3).
  bool ignore_merges = false;
};

using BpeVocab = absl::flat_hash_map<std::string, int32_t>;

// Thread-safe, bounded map from piece text to its ids. When a shard fills up it is emptied, so the
// memory stays bounded while frequent pieces quickly come back.
class BpeCache {
 public:
  // Pieces of this many bytes or more are never cached.
  static constexpr size_t kMaxKeyBytes = 256;

  explicit BpeCache(size_t capacity);
  // Appends the cached ids of `key` to *ids and returns true on a hit.
  bool Lookup(absl::string_view key, std::vector<int32_t>* ids) const;
  // Stores ids for `key` unless the shard is busy (never waits for a writer lock).
  void Insert(absl::string_view key, const int32_t* ids, size_t count);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, std::vector<int32_t>> map ABSL_GUARDED_BY(mu);
  };
  size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

class BpeModel {
 public:
  // `merges` are in rank order (rank = index; a pair listed twice keeps its last rank, like
  // tokenizers). INVALID_ARGUMENT names the first merge whose parts or result are not in `vocab`,
  // or an unk_token missing from `vocab`; the caller adds the file and field.
  static absl::StatusOr<std::unique_ptr<BpeModel>> Create(
      BpeVocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options);

  // Appends the ids of one pre-tokenized piece (valid UTF-8) to *ids.
  void Tokenize(absl::string_view piece, std::vector<int32_t>* ids) const;

  const BpeVocab& vocab() const { return vocab_; }

 private:
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };

  BpeModel(BpeVocab vocab, BpeOptions options);
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  // The id of the symbol for one character of a piece, or -1.
  int32_t LookupSymbol(absl::string_view symbol) const;
  // tokenizers' merge_word + merge_all, appending the resulting ids.
  void MergeWord(absl::string_view piece, std::vector<int32_t>* ids) const;
  // MergeWord through the cache.
  void MergeCached(absl::string_view piece, std::vector<int32_t>* ids) const;
  // Long pieces (files without a pre-tokenizer hand over whole lines) are cut between two
  // characters that no vocabulary token contains side by side and that are both vocabulary tokens
  // themselves: no merge can cross such a cut and no unknown-character handling spans it, so the
  // ids are unchanged, while the cache now serves the parts and merging stays short.
  void TokenizeLong(absl::string_view piece, std::vector<int32_t>* ids) const;
  // Pairs of code points that appear next to each other in some vocabulary token, built on first
  // use (only files without a pre-tokenizer need it).
  const absl::flat_hash_set<uint64_t>& JoinablePairs() const;

  BpeVocab vocab_;
  BpeOptions options_;
  absl::flat_hash_map<uint64_t, Merge> merges_;
  int32_t unk_id_ = -1;
  // byte_fallback_ids_[b] is the id of "<0xBB>", or -1.
  std::array<int32_t, 256> byte_fallback_ids_;
  // Ids of single-character tokens for code points below this bound, -1 when absent; saves a hash
  // lookup per character for byte-level and most alphabetic text.
  static constexpr char32_t kDirectCharLimit = 0x800;
  std::vector<int32_t> direct_char_ids_;
  mutable BpeCache cache_;
  // Pieces longer than this many bytes go through TokenizeLong.
  static constexpr size_t kLongPieceBytes = 64;
  mutable absl::once_flag joinable_once_;
  mutable absl::flat_hash_set<uint64_t> joinable_;  // written once, under joinable_once_
};

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_BPE_MODEL_H_
