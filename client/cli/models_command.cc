// ember_cli models: the models the server serves, one line each, the default one marked.
#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/command.h"

namespace ember::client {

int RunModelsCommand(const CommonArgs& common) {
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("models", client.status());
  const absl::StatusOr<ember::v1::ListModelsResponse> response =
      (*client)->ListModels(common.call_options);
  if (!response.ok()) return FailCall(common, "models", response.status());

  if (common.json) {
    std::printf("%s\n", ProtoToJson(*response).c_str());
    return kExitOk;
  }
  for (const ember::v1::ModelInfo& model : response->models()) {
    const std::string line = absl::StrFormat(
        "%s%s\tarchitecture=%s model_type=%s dtype=%s context=%d vocab=%d eos=[%s] "
        "kv_cache=%dx%d%s\n",
        model.name(), model.name() == response->default_model() ? " (default)" : "",
        model.architecture(), model.model_type(), model.dtype(), model.context_length(),
        model.vocab_size(), absl::StrJoin(model.eos_token_ids(), ","), model.kv_cache_blocks(),
        model.kv_block_size(), model.encoder_decoder() ? " encoder_decoder" : "");
    std::fputs(line.c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace ember::client
