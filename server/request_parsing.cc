#include "server/request_parsing.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/util/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace ember {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// Nested messages deeper than this are left to protobuf (whose own recursion limit is 100);
// ember's requests nest two levels.
constexpr int kMaxDepth = 16;

// Walks the wire format of a `descriptor` message and reports the first string field whose value
// is not UTF-8, named from `prefix`. Malformed wire data ends the walk with OK: protobuf's parse,
// which runs next, reports it.
absl::Status CheckStringsAreUtf8(absl::string_view bytes, const Descriptor& descriptor,
                                 const std::string& prefix, int depth) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  absl::flat_hash_map<int, int> occurrences;  // field number -> values seen, for "stop[1]"
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return absl::OkStatus();
    const FieldDescriptor* field =
        descriptor.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool walk =
        field != nullptr &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED &&
        (field->type() == FieldDescriptor::TYPE_STRING ||
         field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!walk) {
      if (!WireFormatLite::SkipField(&in, tag)) return absl::OkStatus();
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return absl::OkStatus();
    const size_t offset = static_cast<size_t>(in.CurrentPosition());
    if (length > bytes.size() - offset || !in.Skip(static_cast<int>(length))) {
      return absl::OkStatus();
    }
    const absl::string_view value = bytes.substr(offset, length);
    std::string name = absl::StrCat(prefix, field->name());
    if (field->is_repeated()) absl::StrAppend(&name, "[", occurrences[field->number()]++, "]");
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (const size_t bad = FindInvalidUtf8(value); bad != absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": not valid UTF-8 at byte ", bad));
      }
    } else if (depth < kMaxDepth) {
      absl::Status nested =
          CheckStringsAreUtf8(value, *field->message_type(), absl::StrCat(name, "."), depth + 1);
      if (!nested.ok()) return nested;
    }
  }
}

}  // namespace

absl::Status ParseRequest(absl::string_view bytes, google::protobuf::Message* out) {
  const Descriptor& descriptor = *out->GetDescriptor();
  if (absl::Status utf8 = CheckStringsAreUtf8(bytes, descriptor, "", 0); !utf8.ok()) return utf8;
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("request: not a valid ", descriptor.full_name(),
                                                   " message (", bytes.size(), " bytes)"));
  }
  return absl::OkStatus();
}

absl::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* out) {
  if (!buffer->Valid()) return absl::InvalidArgumentError("request: no message received");
  grpc::Slice flat;
  const grpc::Status dumped = buffer->DumpToSingleSlice(&flat);
  buffer->Clear();
  if (!dumped.ok()) {
    return absl::InternalError(
        absl::StrCat("request: cannot read the received message: ", dumped.error_message()));
  }
  return ParseRequest(absl::string_view(reinterpret_cast<const char*>(flat.begin()), flat.size()),
                      out);
}

}  // namespace ember
