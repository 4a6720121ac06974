#include "client/cli/command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "client/cli/bench_report.h"
#include "google/protobuf/util/json_util.h"

namespace ember::client {

int Fail(absl::string_view command, const absl::Status& status) {
  const std::string line =
      absl::StrCat("ember_cli: ", command, ": ", absl::StatusCodeToString(status.code()), ": ",
                   status.message(), "\n");
  std::fputs(line.c_str(), stderr);
  return kExitFailure;
}

int FailCall(const CommonArgs& common, absl::string_view command, const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return Fail(command, status);
  return Fail(command, absl::Status(status.code(), absl::StrCat(status.message(), " (target ",
                                                                common.target, ")")));
}

absl::StatusOr<std::unique_ptr<EmberClient>> Connect(const CommonArgs& common) {
  return EmberClient::Create(common.target, common.client_options);
}

std::string ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a well-formed message cannot fail (no Any fields to resolve in ember's API).
  const google::protobuf::util::Status status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return absl::StrCat("{\"error\":", JsonQuote(status.ToString()), "}");
  return json;
}

}  // namespace ember::client
