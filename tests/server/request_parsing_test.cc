// ParseRequest: ember's own parse of request bytes, which names a string field holding invalid
// UTF-8 (at any depth, with its index when repeated) instead of failing like protobuf's parser.
// GCC 12 reports a false -Wrestrict inside std::string's assign for the short literals given to
// add_stop() here (GCC bug 105329); nothing in this file overlaps memory.
#pragma GCC diagnostic ignored "-Wrestrict"
#include "server/request_parsing.h"

#include <string>

#include "ember/v1/generation.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

using ::testing::HasSubstr;

// Serializes `message`, which may hold invalid UTF-8: protobuf only logs that when serializing.
std::string Bytes(const google::protobuf::Message& message) {
  std::string out;
  EXPECT_TRUE(message.SerializeToString(&out));
  return out;
}

TEST(ParseRequestTest, ValidMessagesParseAsProtobufWould) {
  ember::v1::GenerateRequest request;
  request.set_model("m");
  request.set_prompt("Grüße, 世界! 🙂");
  request.add_prompt_token_ids(1);
  request.add_prompt_token_ids(300);
  request.mutable_sampling()->set_top_p(0.5f);
  request.add_stop("\xE2\x82\xAC");
  request.set_request_id("id-1");
  ember::v1::GenerateRequest parsed;
  ASSERT_TRUE(ParseRequest(Bytes(request), &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), request.SerializeAsString());
  // Zero bytes are the empty message.
  EXPECT_TRUE(ParseRequest("", &parsed).ok());
  EXPECT_EQ(parsed.ByteSizeLong(), 0u);
}

TEST(ParseRequestTest, NamesTheTopLevelFieldAndTheByte) {
  ember::v1::GenerateRequest request;
  request.set_prompt("Hello \xC3\x28 world");
  ember::v1::GenerateRequest parsed;
  const absl::Status s = ParseRequest(Bytes(request), &parsed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "prompt: not valid UTF-8 at byte 6");
}

TEST(ParseRequestTest, NamesRepeatedFieldsWithTheirIndex) {
  ember::v1::GenerateRequest request;
  request.set_prompt("fine");
  request.add_stop("a");
  request.add_stop("b");
  request.add_stop("\xF0\x9F\x99");  // a 4-byte sequence cut short
  ember::v1::GenerateRequest parsed;
  EXPECT_EQ(ParseRequest(Bytes(request), &parsed).message(), "stop[2]: not valid UTF-8 at byte 0");
}

TEST(ParseRequestTest, NamesNestedFields) {
  // No request nests strings yet; a response does, and the walk is the same.
  ember::v1::GenerateResponse response;
  response.add_logprobs()->mutable_chosen()->set_token("ok");
  auto* second = response.add_logprobs();
  second->mutable_chosen()->set_token("ok");
  second->add_top()->set_token("ok");
  second->add_top()->set_token("x\xED\xA0\x80");  // a UTF-16 surrogate
  ember::v1::GenerateResponse parsed;
  EXPECT_EQ(ParseRequest(Bytes(response), &parsed).message(),
            "logprobs[1].top[1].token: not valid UTF-8 at byte 1");
}

TEST(ParseRequestTest, MalformedBytesAreInvalidArgumentNamingTheMessage) {
  ember::v1::TokenizeRequest parsed;
  for (const std::string& bytes : {std::string(11, '\xFF'), std::string("\x12\x64hello", 7),
                                   std::string("\x00", 1), std::string("\x0b", 1)}) {
    const absl::Status s = ParseRequest(bytes, &parsed);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("request: not a valid ember.v1.TokenizeRequest"));
  }
}

TEST(ParseRequestTest, UnknownFieldsAndOtherWireTypesAreSkipped) {
  // Field 99 (unknown, length-delimited, invalid UTF-8: not a string ember knows) then field 2
  // (text) as a varint: protobuf keeps both as unknown fields.
  const std::string bytes(
      "\x9a\x06\x02\xff\xfe"
      "\x10\x05"
      "\x12\x02hi",
      11);
  ember::v1::TokenizeRequest parsed;
  ASSERT_TRUE(ParseRequest(bytes, &parsed).ok());
  EXPECT_EQ(parsed.text(), "hi");
}

TEST(ParseRequestTest, ByteBuffersSpanningSlicesAreConsumed) {
  ember::v1::TokenizeRequest request;
  request.set_text("Grüße");
  const std::string bytes = Bytes(request);
  // Split inside the multi-byte "ü".
  grpc::Slice slices[] = {grpc::Slice(bytes.substr(0, 5)), grpc::Slice(bytes.substr(5))};
  grpc::ByteBuffer buffer(slices, 2);
  ember::v1::TokenizeRequest parsed;
  ASSERT_TRUE(ParseRequest(&buffer, &parsed).ok());
  EXPECT_EQ(parsed.text(), "Grüße");
  EXPECT_FALSE(buffer.Valid());
}

TEST(ParseRequestTest, CheckedRequestTraitsNeverFailTheCall) {
  // A failure from Deserialize would reach the client as UNIMPLEMENTED without a message; the
  // refusal must travel in the CheckedRequest instead.
  ember::v1::TokenizeRequest request;
  request.set_text("\xC0\xAF");
  const std::string bytes = Bytes(request);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  CheckedRequest<ember::v1::TokenizeRequest> checked;
  EXPECT_TRUE((grpc::SerializationTraits<CheckedRequest<ember::v1::TokenizeRequest>>::Deserialize(
                   &buffer, &checked))
                  .ok());
  EXPECT_EQ(checked.status.message(), "text: not valid UTF-8 at byte 0");
}

}  // namespace
}  // namespace ember
