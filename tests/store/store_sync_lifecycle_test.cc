// Store lifecycle (store/slice_removal.h, docs/STORES.md section 7): an owner deletes its slice
// of a store and its peers drop it; peers without the "lifecycle" capability keep it.
#include <gtest/gtest.h>

#include "store/slice_removal.h"
#include "store/store_sync_adapter.h"
#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::pos;
using test::SyncCluster;
using test::SyncNode;

bool holds(SyncNode& n, const DeviceId& owner, const std::string& store = "pos") {
  return n.store(store).get(owner).has_value();
}

TEST(SliceRemovedCodec, GoldenBytesRoundTrip) {
  DeviceId::Raw raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i + 1);
  SliceRemoved m{"pos", DeviceId(raw), 5};
  const Bytes expected = {0x94, 0x09, 0xa3, 'p', 'o', 's', 0xc4, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                          11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0x05};
  EXPECT_EQ(encodeSliceRemoved(m), expected) << "docs/PROTOCOL.md §7.6 shows these bytes";
  EXPECT_TRUE(isLifecycleMessage(expected));
  auto back = decodeSliceRemoved(expected);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(*back, m);
}

TEST(SliceRemovedCodec, RefusesEveryOtherShape) {
  const Bytes good = encodeSliceRemoved(SliceRemoved{"pos", DeviceId(), 5});
  Bytes trailing = good;
  trailing.push_back(0xc0);
  EXPECT_FALSE(decodeSliceRemoved(trailing).isOk());
  EXPECT_FALSE(decodeSliceRemoved(Bytes(good.begin(), good.end() - 1)).isOk()) << "truncated";
  Bytes arity = good;
  arity[0] = 0x95;
  arity.push_back(0x00);
  EXPECT_FALSE(decodeSliceRemoved(arity).isOk());
  Bytes bad_store = good;
  bad_store[3] = '!';  // "!os" breaks the store ID syntax
  EXPECT_EQ(decodeSliceRemoved(bad_store).status().code(), Code::kMalformed);
  Bytes short_device = {0x94, 0x09, 0xa3, 'p', 'o', 's', 0xc4, 0x01, 0x01, 0x05};
  EXPECT_FALSE(decodeSliceRemoved(short_device).isOk());
  EXPECT_FALSE(isLifecycleMessage(Bytes{0x92, 0x02, 0x90})) << "a SliceRequest";
}

TEST(StoreLifecycle, RetractedSliceLeavesEveryPeerWithReasonRemoved) {
  SyncCluster c;
  auto& a = c.add();
  auto& b = c.add();
  auto& d = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(b.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.settle());

  ASSERT_TRUE(a.adapter->retractStore("pos").isOk());
  EXPECT_EQ(a.adapter->retractStore("pos").code(), Code::kNotFound) << "no longer synced";
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !holds(b, a.id()) && !holds(d, a.id()); }, 2 * kSeconds, kMillis));
  EXPECT_TRUE(holds(d, b.id())) << "only the owner's slice goes";
  ASSERT_FALSE(b.events["pos"].removed.empty());
  EXPECT_EQ(b.events["pos"].removed.back().device, a.id());
  EXPECT_EQ(b.events["pos"].removed.back().reason, LeaveReason::kRemoved);
  EXPECT_EQ(a.adapter->stats().removals_sent, 2u);
  EXPECT_EQ(b.adapter->stats().removals_applied, 1u);

  // Anti-entropy does not bring it back, and a later registration and write is synced again.
  c.h.env.advance(12 * kSeconds);
  EXPECT_FALSE(holds(b, a.id()));
  a.adapter->removeStore("pos").ignore();
  ASSERT_TRUE(a.adapter->addStore(a.store()).isOk());
  ASSERT_TRUE(a.store().set(pos(3)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return b.store().get(a.id()) == pos(3); }, 2 * kSeconds, kMillis));
}

TEST(StoreLifecycle, APeerWithoutTheCapabilityKeepsTheSliceUntilTheOwnerGoesOffline) {
  SyncCluster c;
  auto& a = c.add();
  c.mesh_options.capabilities = {"bus", "rpc", "sync", "delta"};  // the previous build
  auto& old = c.add();
  c.mesh_options = {};
  auto& b = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());

  ASSERT_TRUE(a.adapter->retractStore("pos").isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !holds(b, a.id()); }, 2 * kSeconds, kMillis));
  c.h.env.advance(12 * kSeconds);  // anti-entropy rounds: nothing undecodable reaches it
  EXPECT_TRUE(holds(old, a.id()));
  EXPECT_EQ(old.adapter->stats().malformed, 0u) << "it was never sent a SliceRemoved";
  EXPECT_EQ(a.adapter->stats().removals_sent, 1u);
  c.crash(a);
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !holds(old, a.id()); }, 10 * kSeconds, kMillis));
}

TEST(StoreLifecycle, AnotherDevicesRemovalAndAStaleOneAreIgnored) {
  SyncCluster c;
  auto& a = c.add();
  auto& b = c.add();
  auto& m = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  const uint64_t v = a.store().localSlice().version;
  // m claims a's slice is gone: spoofed, dropped.
  ASSERT_TRUE(m.core().bus().sendReserved(b.id(), kSyncNamespace, encodeSliceRemoved({"pos", a.id(), v})).isOk());
  // a "removes" an older version than b holds: a later write of a's wins.
  ASSERT_TRUE(a.core().bus().sendReserved(b.id(), kSyncNamespace, encodeSliceRemoved({"pos", a.id(), v - 1})).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return b.adapter->stats().slices_spoofed == 1; }, 2 * kSeconds, kMillis));
  c.h.env.advance(100 * kMillis);
  EXPECT_TRUE(holds(b, a.id()));
  EXPECT_EQ(b.adapter->stats().removals_applied, 0u);
}

TEST(StoreLifecycle, ACopyThatMissedTheRemovalIsToldAgainWhenItsDigestListsIt) {
  SyncCluster c;
  auto& a = c.add();
  auto& b = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  ASSERT_TRUE(a.adapter->retractStore("pos").isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !holds(b, a.id()); }, 2 * kSeconds, kMillis));
  // b gets a's slice back as if the removal had been lost (a forged copy from a itself).
  ASSERT_TRUE(a.core().bus().sendReserved(b.id(), kSyncNamespace,
                                          encodeSliceUpdate("pos", a.store().localSlice(), 0)).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return holds(b, a.id()); }, 2 * kSeconds, kMillis));
  EXPECT_EQ(b.store().get(a.id())->x, 1);
  // b's next digest lists it; a answers with a SliceRemoved again.
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !holds(b, a.id()); }, 15 * kSeconds, kMillis));
  EXPECT_GE(a.adapter->stats().removals_sent, 2u);
}

}  // namespace
}  // namespace meshslice
