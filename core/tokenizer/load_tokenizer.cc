// Placeholder until the tokenizer work lands: LoadTokenizer dispatches on the files present.
#include "core/tokenizer/tokenizer.h"

namespace ember {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir) {
  return absl::UnimplementedError("LoadTokenizer: not implemented yet for " + model_dir);
}

}  // namespace ember
