#include "base/status.h"

#include <gtest/gtest.h>

namespace meshslice {

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(s.toString(), "ok");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = malformed("bad length");
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), Code::kMalformed);
  EXPECT_EQ(s.toString(), "malformed: bad length");
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.isOk());
  EXPECT_EQ(good.value(), 7);
  Result<int> bad = tooLarge("x");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), Code::kTooLarge);
}

static Status failsAt(int step, int& reached) {
  for (int i = 0; i < 3; ++i) {
    reached = i;
    MS_RETURN_IF_ERROR(i == step ? invalidArgument("stop") : Status::ok());
  }
  return Status::ok();
}

TEST(Status, ReturnIfErrorStopsEarly) {
  int reached = -1;
  EXPECT_EQ(failsAt(1, reached).code(), Code::kInvalidArgument);
  EXPECT_EQ(reached, 1);
}

}  // namespace meshslice
