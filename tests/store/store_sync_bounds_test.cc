// Issue 14: no peer's claim can exhaust or pin another device's version space (docs/STORES.md
// section 2, "Bounds"). A linked member used to freeze any device's slice with one Digest entry
// claiming it at 2^64 - 2: the victim re-stamped to 2^64 - 1 and every later set() "succeeded"
// without sending anything. These tests fail without the bounds.
#include <gtest/gtest.h>

#include "store/version_clock.h"
#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::Pos;
using test::pos;
using test::SyncCluster;
using test::SyncNode;

constexpr uint64_t kSomeoneElsesIncarnation = 0x5eed;

// `liar` tells `to` that it holds `owner`'s slice of "pos" at `version`.
void sendClaim(SyncNode& liar, SyncNode& to, const DeviceId& owner, uint64_t version) {
  Digest d;
  d.entries.push_back(DigestEntry{"pos", owner, version, kSomeoneElsesIncarnation});
  ASSERT_TRUE(liar.core().bus().sendReserved(to.id(), kSyncNamespace, encodeSyncMessage(d)).isOk());
}

// `from` sends its own slice of "pos" at `version` to `to`, as its adapter would.
void sendOwnSlice(SyncNode& from, SyncNode& to, uint64_t version, const Pos& value) {
  DeviceSlice slice{from.id(), version, 0, MsgpackCodec<Pos>::encode(value).value()};
  SliceUpdate u{"pos", slice, from.adapter->incarnationOf("pos")};
  ASSERT_TRUE(from.core().bus().sendReserved(to.id(), kSyncNamespace, encodeSyncMessage(u)).isOk());
}

uint64_t repairCeiling(SyncCluster& c) { return wallClockVersion(c.h.env.wallMillis()) + kMaxRepairLead; }

StoreOptions persistedIn(std::shared_ptr<MemoryPersistence> saved) {
  StoreOptions o;
  o.persistence = std::move(saved);
  return o;
}

class StoreSyncBounds : public ::testing::Test {
 protected:
  // The victim (its slice saved in `saved`, if given), a liar and an observer, linked; the
  // victim's first write has reached both.
  void linkThreeAndWrite(std::shared_ptr<MemoryPersistence> saved = nullptr) {
    victim_ = &c.add({"pos"}, persistedIn(std::move(saved)));
    liar_ = &c.add();
    observer_ = &c.add();
    ASSERT_TRUE(c.allConnected());
    ASSERT_TRUE(victim_->store().set(pos(1)).isOk());
    ASSERT_TRUE(c.settle());
  }

  SyncCluster c;
  SyncNode* victim_ = nullptr;
  SyncNode* liar_ = nullptr;
  SyncNode* observer_ = nullptr;
};

TEST_F(StoreSyncBounds, AHostileDigestCannotFreezeAnotherDevicesSlice) {
  ASSERT_NO_FATAL_FAILURE(linkThreeAndWrite());
  SyncNode& victim = *victim_;
  SyncNode& liar = *liar_;
  SyncNode& observer = *observer_;
  const uint64_t before = victim.store().localSlice().version;

  sendClaim(liar, victim, victim.id(), kMaxVersion - 1);
  c.h.env.runPending();
  EXPECT_EQ(victim.adapter->stats().repairs_refused, 1u);
  EXPECT_EQ(victim.adapter->stats().repairs, 0u);
  EXPECT_EQ(victim.store().localSlice().version, before) << "no re-stamp above the lie";

  // Every later write still gets a fresh version and reaches everyone.
  for (int i = 2; i <= 4; ++i) {
    ASSERT_TRUE(victim.store().set(pos(i)).isOk());
    ASSERT_TRUE(c.h.env.advanceUntil([&] {
      return observer.store().get(victim.id()) == pos(i) && liar.store().get(victim.id()) == pos(i);
    }, 1 * kSeconds, kMillis)) << i;
  }
  EXPECT_LT(victim.store().localSlice().version, repairCeiling(c));
}

TEST_F(StoreSyncBounds, AHostileClaimBeforeAnyWriteSetsNoFloor) {
  SyncNode& victim = c.add();
  SyncNode& liar = c.add();
  ASSERT_TRUE(c.allConnected());
  sendClaim(liar, victim, victim.id(), kMaxVersion);
  c.h.env.runPending();
  EXPECT_EQ(victim.adapter->stats().repairs_refused, 1u);
  ASSERT_TRUE(victim.store().set(pos(1)).isOk());
  EXPECT_EQ(victim.store().localSlice().version, wallClockVersion(c.h.env.wallMillis()));
  ASSERT_TRUE(c.settle());
  EXPECT_EQ(liar.store().get(victim.id()), pos(1));
}

// The bound is the clock plus the lead, not the current version plus the lead: repeating
// claims just inside the lead, each from the version the last one produced, stops after one.
TEST_F(StoreSyncBounds, RepeatedClaimsCannotRatchetAVersionPastTheRepairLead) {
  ASSERT_NO_FATAL_FAILURE(linkThreeAndWrite());
  SyncNode& victim = *victim_;
  SyncNode& liar = *liar_;
  SyncNode& observer = *observer_;
  for (int i = 0; i < 8; ++i) {
    sendClaim(liar, victim, victim.id(), victim.store().localSlice().version + kMaxRepairLead / 2);
    c.h.env.runPending();
    EXPECT_LE(victim.store().localSlice().version, repairCeiling(c)) << i;
  }
  EXPECT_EQ(victim.adapter->stats().repairs, 1u) << "the first claim is within the lead: a repair";
  EXPECT_EQ(victim.adapter->stats().repairs_refused, 7u);
  ASSERT_TRUE(victim.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return observer.store().get(victim.id()) == pos(2); }, 1 * kSeconds, kMillis));
}

// The same class of push, within the bounds: one digest of 4096 rising claims, each just
// above the version the previous one would have produced, costs one re-stamp (one save), not
// 4096.
TEST_F(StoreSyncBounds, ADigestOfRisingClaimsCostsOneRepair) {
  auto saved = std::make_shared<MemoryPersistence>();
  ASSERT_NO_FATAL_FAILURE(linkThreeAndWrite(saved));
  SyncNode& victim = *victim_;
  SyncNode& liar = *liar_;
  const uint64_t v = victim.store().localSlice().version;
  const size_t saves = saved->saves();
  Digest d;
  for (uint64_t i = 0; i < kMaxSyncEntries; ++i)
    d.entries.push_back(DigestEntry{"pos", victim.id(), v + i, kSomeoneElsesIncarnation});
  ASSERT_TRUE(liar.core().bus().sendReserved(victim.id(), kSyncNamespace, encodeSyncMessage(d)).isOk());
  c.h.env.runPending();
  EXPECT_EQ(victim.store().localSlice().version, v + kMaxSyncEntries);
  EXPECT_EQ(victim.adapter->stats().repairs, 1u);
  EXPECT_EQ(saved->saves(), saves + 1);
  ASSERT_TRUE(c.settle());
}

TEST_F(StoreSyncBounds, ASendersImplausibleVersionsAreNeitherStoredNorRequested) {
  SyncNode& sender = c.add();
  SyncNode& receiver = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(sender.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  const uint64_t bound = wallClockVersion(c.h.env.wallMillis()) + kMaxAcceptLead;

  sendOwnSlice(sender, receiver, bound + 1000, Pos{666, 666, "far ahead"});
  c.h.env.runPending();
  EXPECT_EQ(receiver.adapter->stats().versions_implausible, 1u);
  EXPECT_EQ(receiver.store().get(sender.id()), pos(1)) << "never stored";

  const uint64_t requests = receiver.adapter->stats().requests_sent;
  Digest d;
  d.entries.push_back(DigestEntry{"pos", sender.id(), kMaxVersion, sender.adapter->incarnationOf("pos")});
  ASSERT_TRUE(sender.core().bus().sendReserved(receiver.id(), kSyncNamespace, encodeSyncMessage(d)).isOk());
  c.h.env.runPending();
  EXPECT_EQ(receiver.adapter->stats().versions_implausible, 2u);
  EXPECT_EQ(receiver.adapter->stats().requests_sent, requests) << "not requested";

  // At the bound a version is taken (a clock this far ahead is still a clock).
  sendOwnSlice(sender, receiver, bound, pos(2));
  c.h.env.runPending();
  EXPECT_EQ(receiver.store().get(sender.id()), pos(2));
  EXPECT_EQ(receiver.adapter->stats().versions_implausible, 2u);
}

// The attack, then a restart of the victim with its saved slice: the version is sane and
// updates flow both ways. And a saved version left by the freeze under an older build (2^64 - 1)
// is not continued: the restarted victim starts over from its clock and its peers take it.
TEST_F(StoreSyncBounds, AVictimRestartedAfterTheAttackOrAnOldFreezeSyncsAgain) {
  auto saved = std::make_shared<MemoryPersistence>();
  ASSERT_NO_FATAL_FAILURE(linkThreeAndWrite(saved));
  SyncNode& victim = *victim_;
  SyncNode& liar = *liar_;
  SyncNode& observer = *observer_;
  sendClaim(liar, victim, victim.id(), kMaxVersion - 1);
  c.h.env.runPending();
  ASSERT_EQ(victim.adapter->stats().repairs_refused, 1u);
  c.h.env.advance(2 * kSeconds);

  c.restart(victim, {"pos"}, persistedIn(saved));
  EXPECT_EQ(victim.store().local(), pos(1));
  EXPECT_LT(victim.store().localSlice().version, repairCeiling(c));
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(victim.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return observer.store().get(victim.id()) == pos(2); }, 1 * kSeconds, kMillis));
  ASSERT_TRUE(observer.store().set(pos(3)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return victim.store().get(observer.id()) == pos(3); }, 1 * kSeconds, kMillis));

  // The old build's freeze on disk.
  DeviceSlice frozen = saved->load().value().value();
  frozen.version = kMaxVersion;
  frozen.data = MsgpackCodec<Pos>::encode(pos(9)).value();
  c.crash(victim);
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !observer.store().get(victim.id()); }, 5 * kSeconds, kMillis));
  ASSERT_TRUE(saved->save(frozen).isOk());
  c.h.net.setRefusing(victim.node->address, false);
  c.restart(victim, {"pos"}, persistedIn(saved));
  EXPECT_EQ(victim.store().local(), pos(9)) << "the data is kept";
  EXPECT_LE(victim.store().localSlice().version, wallClockVersion(c.h.env.wallMillis()) + 1);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return observer.store().get(victim.id()) == pos(9); }, 1 * kSeconds, kMillis));
  ASSERT_TRUE(victim.store().set(pos(10)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] {
    return observer.store().get(victim.id()) == pos(10) && liar.store().get(victim.id()) == pos(10);
  }, 1 * kSeconds, kMillis));
  EXPECT_LT(saved->load().value()->version, repairCeiling(c)) << "the new version was saved";
}

}  // namespace
}  // namespace meshslice
