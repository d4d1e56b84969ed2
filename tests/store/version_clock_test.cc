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

TEST(VersionClock, TheTopOfTheRangeIsExhaustedNotWrapped) {
  EXPECT_FALSE(versionSpaceExhausted(kMaxVersion - 1, 0));
  EXPECT_TRUE(versionSpaceExhausted(kMaxVersion, 0));
  EXPECT_TRUE(versionSpaceExhausted(5, kMaxVersion)) << "a floor at the top leaves nothing above it";
  EXPECT_FALSE(versionSpaceExhausted(0, 0));
}

// The bounds are relative to the wall clock only (1 version per microsecond).
TEST(VersionClock, RepairClaimsAreBoundedByTheClockPlusTheRepairLead) {
  constexpr int64_t kWall = 1'700'000'000'000;
  const uint64_t now = wallClockVersion(kWall);
  EXPECT_TRUE(isPlausibleRepairClaim(now, kWall));
  EXPECT_TRUE(isPlausibleRepairClaim(now + kMaxRepairLead - 1, kWall)) << "its repair lands on the bound";
  EXPECT_FALSE(isPlausibleRepairClaim(now + kMaxRepairLead, kWall));
  EXPECT_FALSE(isPlausibleRepairClaim(kMaxVersion - 1, kWall)) << "the freeze of issue 14";
  EXPECT_FALSE(isPlausibleRepairClaim(kMaxVersion, kWall));
  // The bound moves with the clock, not with versions a repair produced: no ratchet.
  EXPECT_TRUE(isPlausibleRepairClaim(now + kMaxRepairLead, kWall + 1));
  EXPECT_TRUE(isPlausibleRepairClaim(kMaxRepairLead - 1, -5)) << "a clock before the epoch counts as 0";
  EXPECT_FALSE(isPlausibleRepairClaim(kMaxVersion, std::numeric_limits<int64_t>::max()))
      << "saturates: nothing lands above the top";
}

TEST(VersionClock, AcceptedVersionsAreBoundedByTheClockPlusTheAcceptLead) {
  constexpr int64_t kWall = 1'700'000'000'000;
  const uint64_t now = wallClockVersion(kWall);
  EXPECT_TRUE(isPlausibleVersion(0, kWall));
  EXPECT_TRUE(isPlausibleVersion(now + kMaxAcceptLead, kWall));
  EXPECT_FALSE(isPlausibleVersion(now + kMaxAcceptLead + 1, kWall));
  EXPECT_FALSE(isPlausibleVersion(kMaxVersion, kWall));
  EXPECT_TRUE(isPlausibleVersion(kMaxVersion, std::numeric_limits<int64_t>::max()));
  // A version repaired to the repair bound is acceptable to a receiver whose clock is behind
  // the owner's by up to the difference of the two leads (~203 days).
  const int64_t behind_ms = static_cast<int64_t>((kMaxAcceptLead - kMaxRepairLead) / kVersionsPerMilli);
  EXPECT_TRUE(isPlausibleVersion(now + kMaxRepairLead, kWall - behind_ms));
  EXPECT_GT(behind_ms, int64_t{200} * 24 * 3600 * 1000);
  EXPECT_GT(kMaxRepairLead / kVersionsPerMilli, uint64_t{19} * 3600 * 1000) << "more than 19 h of clock step-back";
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
