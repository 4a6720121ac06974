#include "core/tokenizer/bpe_model.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/tokenizer/utf8.h"

namespace ember::tokenizer_internal {
namespace {

// One symbol of a word being merged; a doubly linked list laid over an array, as in tokenizers'
// Word. `len` is the symbol's byte length; 0 marks a symbol merged into its left neighbour.
struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  int32_t len;
};

// A candidate merge of the symbol at `pos` with its right neighbour.
struct Candidate {
  uint32_t rank;
  int32_t pos;
  int32_t new_id;
};

// Heap order: the lowest rank first, then the leftmost position (tokenizers' Merge ordering).
struct LaterCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

void AddSymbol(std::vector<Symbol>* symbols, int32_t id, int32_t len) {
  const auto index = static_cast<int32_t>(symbols->size());
  if (!symbols->empty()) symbols->back().next = index;
  symbols->push_back({id, index - 1, -1, len});
}

}  // namespace

BpeCache::BpeCache(size_t capacity) : shard_capacity_(std::max<size_t>(1, capacity / kShards)) {}

bool BpeCache::Lookup(absl::string_view key, std::vector<int32_t>* ids) const {
  const Shard& shard = shards_[absl::Hash<absl::string_view>()(key) % kShards];
  absl::ReaderMutexLock lock(&shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return false;
  ids->insert(ids->end(), it->second.begin(), it->second.end());
  return true;
}

void BpeCache::Insert(absl::string_view key, const int32_t* ids, size_t count) {
  Shard& shard = shards_[absl::Hash<absl::string_view>()(key) % kShards];
  if (!shard.mu.TryLock()) return;
  if (shard.map.size() >= shard_capacity_) shard.map.clear();
  shard.map.try_emplace(std::string(key), ids, ids + count);
  shard.mu.Unlock();
}

// 64 Ki cached pieces cover the working set of ordinary text; tokenizers itself keeps 10 000.
BpeModel::BpeModel(BpeVocab vocab, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)), cache_(size_t{1} << 16) {
  byte_fallback_ids_.fill(-1);
}

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    BpeVocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
    BpeOptions options) {
  std::unique_ptr<BpeModel> model(new BpeModel(std::move(vocab), std::move(options)));
  const BpeVocab& v = model->vocab_;
  const size_t prefix_len = model->options_.continuing_subword_prefix.has_value()
                                ? model->options_.continuing_subword_prefix->size()
                                : 0;
  model->merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    // Named references, not a structured binding: clang 14 cannot capture those in a lambda.
    const std::string& left = merges[rank].first;
    const std::string& right = merges[rank].second;
    auto missing = [&](absl::string_view token) {
      return absl::InvalidArgumentError(absl::StrCat("merge ", rank, " (\"", left, " ", right,
                                                     "\"): \"", token,
                                                     "\" is not in the vocabulary"));
    };
    auto left_it = v.find(left);
    if (left_it == v.end()) return missing(left);
    auto right_it = v.find(right);
    if (right_it == v.end()) return missing(right);
    if (right.size() < prefix_len) return missing(right);
    const std::string merged = absl::StrCat(left, absl::string_view(right).substr(prefix_len));
    auto merged_it = v.find(merged);
    if (merged_it == v.end()) return missing(merged);
    model->merges_.insert_or_assign(PairKey(left_it->second, right_it->second),
                                    Merge{static_cast<uint32_t>(rank), merged_it->second});
  }
  if (model->options_.unk_token.has_value()) {
    auto it = v.find(*model->options_.unk_token);
    if (it == v.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unk_token \"", *model->options_.unk_token, "\" is not in the vocabulary"));
    }
    model->unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = v.find(absl::StrFormat("<0x%02X>", b));
    if (it != v.end()) model->byte_fallback_ids_[b] = it->second;
  }
  model->direct_char_ids_.assign(kDirectCharLimit, -1);
  for (const auto& [token, id] : v) {
    if (token.empty() || token.size() > 2) continue;
    size_t len = 0;
    const char32_t c = DecodeUtf8At(token, 0, &len);
    if (len == token.size() && c < kDirectCharLimit) model->direct_char_ids_[c] = id;
  }
  return model;
}

int32_t BpeModel::LookupSymbol(absl::string_view symbol) const {
  if (symbol.size() <= 2) {
    size_t len = 0;
    const char32_t c = DecodeUtf8At(symbol, 0, &len);
    if (len == symbol.size() && c < kDirectCharLimit) return direct_char_ids_[c];
  }
  auto it = vocab_.find(symbol);
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::Tokenize(absl::string_view piece, std::vector<int32_t>* ids) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    auto it = vocab_.find(piece);
    if (it != vocab_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  if (piece.size() > kLongPieceBytes && !options_.continuing_subword_prefix.has_value() &&
      !options_.end_of_word_suffix.has_value()) {
    TokenizeLong(piece, ids);
    return;
  }
  MergeCached(piece, ids);
}

void BpeModel::MergeCached(absl::string_view piece, std::vector<int32_t>* ids) const {
  const bool cacheable = piece.size() < BpeCache::kMaxKeyBytes;
  if (cacheable && cache_.Lookup(piece, ids)) return;
  const size_t first = ids->size();
  MergeWord(piece, ids);
  if (cacheable) cache_.Insert(piece, ids->data() + first, ids->size() - first);
}

const absl::flat_hash_set<uint64_t>& BpeModel::JoinablePairs() const {
  absl::call_once(joinable_once_, [this] {
    for (const auto& [token, id] : vocab_) {
      if (token.empty()) continue;
      size_t len = 0;
      char32_t previous = DecodeUtf8At(token, 0, &len);
      for (size_t i = len; i < token.size(); i += len) {
        const char32_t c = DecodeUtf8At(token, i, &len);
        joinable_.insert((static_cast<uint64_t>(previous) << 21) | c);
        previous = c;
      }
    }
  });
  return joinable_;
}

void BpeModel::TokenizeLong(absl::string_view piece, std::vector<int32_t>* ids) const {
  const absl::flat_hash_set<uint64_t>& joinable = JoinablePairs();
  size_t start = 0;
  char32_t previous = 0;
  bool previous_known = false;
  for (size_t i = 0; i < piece.size();) {
    size_t len = 0;
    const char32_t c = DecodeUtf8At(piece, i, &len);
    const bool known = LookupSymbol(piece.substr(i, len)) >= 0;
    if (i > 0 && previous_known && known &&
        !joinable.contains((static_cast<uint64_t>(previous) << 21) | c)) {
      MergeCached(piece.substr(start, i - start), ids);
      start = i;
    }
    previous = c;
    previous_known = known;
    i += len;
  }
  MergeCached(piece.substr(start), ids);
}

void BpeModel::MergeWord(absl::string_view piece, std::vector<int32_t>* ids) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  thread_local std::string decorated;
  symbols.clear();
  heap.clear();

  const bool has_prefix = options_.continuing_subword_prefix.has_value();
  const bool has_suffix = options_.end_of_word_suffix.has_value();
  int32_t pending_unk_len = 0;  // > 0 while an unknown-character run awaits its unk token
  for (size_t i = 0; i < piece.size();) {
    const size_t len = Utf8SequenceLength(static_cast<unsigned char>(piece[i]));
    absl::string_view symbol = piece.substr(i, len);
    if ((has_prefix && i > 0) || (has_suffix && i + len >= piece.size())) {
      decorated.clear();
      if (has_prefix && i > 0) decorated.append(*options_.continuing_subword_prefix);
      decorated.append(symbol.data(), symbol.size());
      if (has_suffix && i + len >= piece.size()) decorated.append(*options_.end_of_word_suffix);
      symbol = decorated;
    }
    i += len;
    const int32_t id = LookupSymbol(symbol);
    if (id >= 0) {
      if (pending_unk_len > 0) {
        AddSymbol(&symbols, unk_id_, pending_unk_len);
        pending_unk_len = 0;
      }
      AddSymbol(&symbols, id, static_cast<int32_t>(len));
      continue;
    }
    if (options_.byte_fallback && std::all_of(symbol.begin(), symbol.end(), [this](char b) {
          return byte_fallback_ids_[static_cast<unsigned char>(b)] >= 0;
        })) {
      // Like tokenizers, a pending unk token is not flushed first: it follows the byte tokens.
      for (char b : symbol)
        AddSymbol(&symbols, byte_fallback_ids_[static_cast<unsigned char>(b)], 1);
      continue;
    }
    if (unk_id_ >= 0) {
      if (pending_unk_len > 0 && !options_.fuse_unk) {
        AddSymbol(&symbols, unk_id_, pending_unk_len);
        pending_unk_len = 0;
      }
      pending_unk_len += static_cast<int32_t>(len);
    }
  }
  if (pending_unk_len > 0) AddSymbol(&symbols, unk_id_, pending_unk_len);

  // Word::merge_all: repeatedly apply the lowest-ranked (then leftmost) applicable merge, with
  // stale heap entries skipped when their pair has changed.
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    auto it = merges_.find(PairKey(symbols[i].id, symbols[i + 1].id));
    if (it != merges_.end()) {
      heap.push_back({it->second.rank, static_cast<int32_t>(i), it->second.new_id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), LaterCandidate());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LaterCandidate());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& current = symbols[top.pos];
    if (current.len == 0 || current.next == -1) continue;
    const int32_t right_pos = current.next;
    const Symbol right = symbols[right_pos];
    auto it = merges_.find(PairKey(current.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;

    current.id = top.new_id;
    current.len += right.len;
    current.next = right.next;
    symbols[right_pos].len = 0;
    if (right.next >= 0) symbols[right.next].prev = top.pos;

    if (current.prev >= 0) {
      auto left = merges_.find(PairKey(symbols[current.prev].id, current.id));
      if (left != merges_.end()) {
        heap.push_back({left->second.rank, current.prev, left->second.new_id});
        std::push_heap(heap.begin(), heap.end(), LaterCandidate());
      }
    }
    if (current.next >= 0) {
      auto next = merges_.find(PairKey(current.id, symbols[current.next].id));
      if (next != merges_.end()) {
        heap.push_back({next->second.rank, top.pos, next->second.new_id});
        std::push_heap(heap.begin(), heap.end(), LaterCandidate());
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.len != 0) ids->push_back(s.id);
  }
}

}  // namespace ember::tokenizer_internal
