// The KV blocks of one beam-search request, shared between its beams copy-on-write.
//
// The scheduler hands a beam group all the blocks it can ever need at admission (BeamGroupBlocks
// of them: a beam group never grows or gets preempted). BeamBlocks keeps that pool and one block
// table per live beam. When the search reorders its beams, a beam that continues another simply
// takes its table (the blocks gain a holder; nothing is copied). Before a beam writes a position,
// PrepareWrite gives it a block of its own for that position: a fresh pool block when its table
// ends there, or, when the block is shared with another beam, a private copy of it, of which only
// the positions before the write need copying. So a step copies at most one partly filled block
// per beam instead of every beam's whole history, and the prompt's full blocks are stored once.
//
// Pure bookkeeping over block ids: the caller performs the copies (KvCache::CopyBlockPrefix).
#ifndef EMBER_CORE_ENGINE_BEAM_BLOCKS_H_
#define EMBER_CORE_ENGINE_BEAM_BLOCKS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ember {

// Blocks a beam group of up to `max_beams` beams needs so that no write ever waits for one:
// the prompt's full blocks, written once and shared by every beam for the group's life, plus
// each beam's own blocks for the rest of its longest length. The bound holds at every step: a
// beam's table never exceeds BlocksFor(longest_tokens), and the blocks after the prompt's full
// ones are counted once per beam, so a shared block replaced by a private copy never overdraws.
int64_t BeamGroupBlocks(int64_t prompt_tokens, int64_t longest_tokens, int64_t max_beams,
                        int64_t block_size);

class BeamBlocks {
 public:
  // `pool`: the blocks the scheduler gave the group. Starts with one beam and an empty table.
  BeamBlocks(std::vector<int32_t> pool, int64_t block_size);

  // The first `positions` positions of a block, copied into another block before a beam writes
  // the rest of it.
  struct Copy {
    int32_t from = 0;
    int32_t to = 0;
    int64_t positions = 0;
  };

  // Makes positions [start, start + count) of `beam`'s table its own to write: blocks the table
  // lacks come from the pool; a block shared with another beam is swapped for a private one, and
  // the returned copy (positions before `start` in that block) must be made before the write.
  // Writes are at the table's frontier (start = positions already written). INTERNAL when the
  // pool is empty (the group's reservation was too small: a bug) or `beam` is out of range.
  absl::StatusOr<std::vector<Copy>> PrepareWrite(int32_t beam, int64_t start, int64_t count);

  // New beam i continues old beam parents[i] (each parent in [0, num_beams())): it takes that
  // beam's table as it is. Blocks no beam holds any more go back to the pool.
  absl::Status Reorder(absl::Span<const int32_t> parents);

  absl::Span<const int32_t> table(int32_t beam) const;
  int32_t num_beams() const { return static_cast<int32_t>(tables_.size()); }
  // Blocks in some beam's table (each counted once).
  int64_t blocks_in_use() const { return static_cast<int64_t>(pool_size_ - free_.size()); }
  // Beams whose tables hold `block`.
  int32_t holders(int32_t block) const;

 private:
  // Takes a block out of the pool; INTERNAL when none is left.
  absl::StatusOr<int32_t> TakeFree();
  void Release(int32_t block);
  int32_t& Holders(int32_t block);

  int64_t block_size_;
  size_t pool_size_;
  std::vector<int32_t> pool_;     // the blocks, sorted (holders_ is indexed through it)
  std::vector<int32_t> holders_;  // [pool index] tables holding the block
  std::vector<int32_t> free_;     // blocks in no table
  std::vector<std::vector<int32_t>> tables_;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_BEAM_BLOCKS_H_
