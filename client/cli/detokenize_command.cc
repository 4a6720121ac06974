// ember_cli detokenize: the text of --token_ids as the model's tokenizer decodes them, then a
// newline.
#include <cstdio>

#include "client/cli/command.h"

namespace ember::client {

int RunDetokenizeCommand(const CommonArgs& common) {
  const absl::StatusOr<ember::v1::DetokenizeRequest> request = DetokenizeRequestFromFlags();
  if (!request.ok()) return Fail("detokenize", request.status());
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("detokenize", client.status());
  const absl::StatusOr<ember::v1::DetokenizeResponse> response =
      (*client)->Detokenize(*request, common.call_options);
  if (!response.ok()) return FailCall(common, "detokenize", response.status());

  if (common.json) {
    std::printf("%s\n", ProtoToJson(*response).c_str());
    return kExitOk;
  }
  std::fwrite(response->text().data(), 1, response->text().size(), stdout);
  std::fputc('\n', stdout);
  return kExitOk;
}

}  // namespace ember::client
