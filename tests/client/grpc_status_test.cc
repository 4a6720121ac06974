// FromGrpcStatus keeps the code and message of every canonical status.
#include "client/grpc_status.h"

#include "gtest/gtest.h"

namespace ember::client {
namespace {

TEST(FromGrpcStatusTest, OkIsOk) { EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok()); }

TEST(FromGrpcStatusTest, EveryCanonicalCodeKeepsCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status =
        FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(code), "field top_k is -1"));
    EXPECT_EQ(static_cast<int>(status.code()), code);
    EXPECT_EQ(status.message(), "field top_k is -1");
  }
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full")),
            absl::ResourceExhaustedError("queue full"));
}

}  // namespace
}  // namespace ember::client
