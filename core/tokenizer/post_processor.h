// tokenizer.json post-processors, as far as they change ids: adding the special tokens of a single
// sequence when the caller asks for them. Internal to core/tokenizer.
//
// Supported: TemplateProcessing ("single" template), BertProcessing, RobertaProcessing, ByteLevel
// (offsets only, so no change to ids), Sequence. Others are rejected with "unsupported
// post_processor".
#ifndef EMBER_CORE_TOKENIZER_POST_PROCESSOR_H_
#define EMBER_CORE_TOKENIZER_POST_PROCESSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/json_fields.h"

namespace ember::tokenizer_internal {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Rewrites the ids of one encoded sequence (called only when special tokens are requested).
  virtual void Process(std::vector<int32_t>* ids) const = 0;
  // Every id this processor may insert, with the field that names it, for range checks at load.
  virtual void ReferencedIds(std::vector<std::pair<int32_t, std::string>>* ids) const = 0;
};

// Builds the post-processor `field` describes; null or missing gives nullptr.
absl::StatusOr<std::unique_ptr<PostProcessor>> ParsePostProcessor(const JsonField& field);

}  // namespace ember::tokenizer_internal

#endif  // EMBER_CORE_TOKENIZER_POST_PROCESSOR_H_
