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
  using P = Provenance;
  EXPECT_TRUE(needsRepair(10, 11, P::kUnknown, /*before_our_slices=*/false));
  EXPECT_TRUE(needsRepair(10, 11, P::kThisRun, false)) << "higher is always a leftover (or a lie)";
  EXPECT_FALSE(needsRepair(10, 10, P::kUnknown, false));
  EXPECT_TRUE(needsRepair(10, 10, P::kUnknown, true));
  EXPECT_FALSE(needsRepair(10, 9, P::kUnknown, true));
  EXPECT_FALSE(needsRepair(10, 9, P::kEarlierRun, true));
  EXPECT_TRUE(needsRepair(0, 1, P::kUnknown, false)) << "nothing written: the next write must land above";
}

TEST(VersionClock, AnEqualVersionIsCurrentOnlyWhenThisRunStampedIt) {
  using P = Provenance;
  EXPECT_FALSE(needsRepair(10, 10, P::kThisRun, /*before_our_slices=*/true)) << "a re-link costs nothing";
  EXPECT_TRUE(needsRepair(10, 10, P::kEarlierRun, false)) << "a restarted run reusing a version";
  EXPECT_TRUE(needsRepair(10, 10, P::kEarlierRun, true));
  EXPECT_EQ(provenanceOf(0, 7), P::kUnknown);
  EXPECT_EQ(provenanceOf(7, 7), P::kThisRun);
  EXPECT_EQ(provenanceOf(8, 7), P::kEarlierRun);
}

}  // namespace
}  // namespace meshslice
