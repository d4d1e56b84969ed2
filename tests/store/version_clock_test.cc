#include "store/version_clock.h"

#include <gtest/gtest.h>

#include <limits>

namespace meshslice {
namespace {

TEST(VersionClock, FirstVersionComesFromTheWallClock) {
  EXPECT_EQ(nextLocalVersion(0, 1'700'000'000'000), 1'700'000'000'000'000u);
  EXPECT_EQ(wallClockVersion(5), 5000u);
}

TEST(VersionClock, VersionsRiseByOneWithinAMillisecond) {
  uint64_t v = nextLocalVersion(0, 1000);
  EXPECT_EQ(nextLocalVersion(v, 1000), v + 1);
  EXPECT_EQ(nextLocalVersion(v + 1, 1000), v + 2);
}

TEST(VersionClock, AClockThatWentBackNeverLowersTheVersion) {
  uint64_t v = nextLocalVersion(0, 2'000);
  EXPECT_EQ(nextLocalVersion(v, 1'000), v + 1);
  EXPECT_EQ(nextLocalVersion(v, -5), v + 1);
}

TEST(VersionClock, PersistedVersionAboveTheClockIsContinued) {
  EXPECT_EQ(nextLocalVersion(9'000'000, 1'000), 9'000'001u);
}

TEST(VersionClock, FloorFromARepairIsExceeded) {
  EXPECT_EQ(nextLocalVersion(0, 1'000, 5'000'000), 5'000'001u);
  EXPECT_EQ(nextLocalVersion(10, 1'000, 0), 1'000'000u);
}

TEST(VersionClock, SaturatesInsteadOfWrapping) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(nextLocalVersion(kMax, 1), kMax);
  EXPECT_EQ(wallClockVersion(std::numeric_limits<int64_t>::max()), kMax);
}

TEST(VersionClock, OnlyAStrictlyNewerVersionIsApplied) {
  EXPECT_TRUE(isNewerVersion(std::nullopt, 1));
  EXPECT_TRUE(isNewerVersion(5, 6));
  EXPECT_FALSE(isNewerVersion(5, 5));
  EXPECT_FALSE(isNewerVersion(5, 4));
}

TEST(VersionClock, RepairIsNeededForHigherVersionsAndForEqualOnesFromAJoinDigest) {
  EXPECT_TRUE(needsRepair(10, 11, /*strict=*/true));
  EXPECT_FALSE(needsRepair(10, 10, /*strict=*/true));
  EXPECT_TRUE(needsRepair(10, 10, /*strict=*/false));
  EXPECT_FALSE(needsRepair(10, 9, /*strict=*/false));
  EXPECT_TRUE(needsRepair(0, 1, /*strict=*/true)) << "nothing written: the next write must land above";
}

}  // namespace
}  // namespace meshslice
