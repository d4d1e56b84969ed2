#include "store/store_sync_adapter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <variant>

#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::Pos;
using test::pos;
using test::PosStore;
using test::SyncCluster;
using test::SyncNode;

TEST(StoreSyncAdapter, FiveNodesConverge) {
  SyncCluster c;
  for (int i = 0; i < 5; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.nodes[i]->store().set(pos(i)).isOk());
  ASSERT_TRUE(c.settle());
  for (auto& n : c.nodes) {
    auto all = n->store().all();
    ASSERT_EQ(all.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(all.at(c.nodes[i]->id()), pos(i));
    EXPECT_EQ(n->adapter->stats().slices_spoofed, 0u);
  }
}

TEST(StoreSyncAdapter, NewLinkExchangesSlicesWrittenBeforeIt) {
  SyncCluster c;
  SyncNode& a = c.add();
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  SyncNode& b = c.add();
  ASSERT_TRUE(b.store().set(pos(2)).isOk());  // before the link is up
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.settle());
  EXPECT_EQ(b.store().get(a.id()), pos(1));
  EXPECT_EQ(a.store().get(b.id()), pos(2));
  // The join exchange: a digest, an all-stores request and the local slice, each way.
  EXPECT_EQ(a.adapter->stats().requests_received, 1u);
  EXPECT_EQ(a.adapter->stats().slices_applied, 1u);
  EXPECT_EQ(a.adapter->stats().slices_stale, 0u) << "no slice is sent twice";
  EXPECT_EQ(b.adapter->stats().slices_stale, 0u);
}

TEST(StoreSyncAdapter, LateJoinerReceivesEverySlice) {
  SyncCluster c;
  for (int i = 0; i < 4; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.nodes[i]->store().set(pos(i)).isOk());
  ASSERT_TRUE(c.settle());
  c.h.env.advance(20 * kSeconds);
  SyncNode& late = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return late.store().all().size() == 4; }, 2 * kSeconds, kMillis));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(late.store().get(c.nodes[i]->id()), pos(i));
  ASSERT_TRUE(late.store().set(pos(9)).isOk());
  ASSERT_TRUE(c.settle());
  EXPECT_EQ(c.nodes[0]->store().get(late.id()), pos(9));
}

TEST(StoreSyncAdapter, BurstOfSetsInOneTurnSendsOnlyTheNewestState) {
  SyncCluster c;
  for (int i = 0; i < 3; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(1 * kSeconds);
  SyncNode& a = *c.nodes[0];
  const uint64_t sent_before = a.adapter->stats().slices_sent;
  for (int i = 1; i <= 10'000; ++i) ASSERT_TRUE(a.store().set(pos(i)).isOk());
  c.h.env.runPending();
  EXPECT_EQ(a.adapter->stats().slices_sent - sent_before, 2u) << "one SliceUpdate per peer";
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(c.nodes[i]->store().get(a.id()), pos(10'000));
    EXPECT_EQ(c.nodes[i]->events["pos"].updated.size(), 1u);
  }
}

TEST(StoreSyncAdapter, TenThousandRapidSetsReachEveryPeerWithBoundedQueues) {
  MeshOptions mo;
  mo.liveness_timeout = 600 * kSeconds;  // the paused peer must not time anyone out
  AdapterOptions ao;
  ao.max_pending_bytes_per_peer = 64 * 1024;
  SyncCluster c(mo, ao);
  for (int i = 0; i < 3; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(1 * kSeconds);
  SyncNode& writer = *c.nodes[0];
  SyncNode& reader = *c.nodes[1];
  SyncNode& paused = *c.nodes[2];
  // The paused node stops reading everything sent to it.
  for (MemoryLink* l : c.h.net.links())
    if (l->isOpen() && l->localAddress().rfind(paused.node->address, 0) == 0) l->setReadPaused(true);

  const std::string filler(1000, 'x');
  size_t max_pending = 0;
  for (int i = 1; i <= 10'000; ++i) {
    ASSERT_TRUE(writer.store().set(Pos{i, i, filler}).isOk());
    c.h.env.runPending();
    max_pending = std::max(max_pending, writer.core().pendingBytesTo(paused.id()));
    // The reader is never held up by the paused peer.
    ASSERT_EQ(reader.store().get(writer.id())->x, i);
  }
  const size_t one_message = 1200;  // a slice of ~1 KB plus framing
  EXPECT_LE(max_pending, ao.max_pending_bytes_per_peer + one_message);
  EXPECT_TRUE(writer.adapter->isOwed(paused.id()));
  EXPECT_GE(writer.adapter->stats().deferrals, 1u);
  EXPECT_LT(paused.store().get(writer.id()).value_or(Pos{}).x, 10'000);

  for (MemoryLink* l : c.h.net.links())
    if (l->isOpen() && l->localAddress().rfind(paused.node->address, 0) == 0) l->setReadPaused(false);
  ASSERT_TRUE(c.h.env.advanceUntil([&] {
    auto v = paused.store().get(writer.id());
    return v && v->x == 10'000;
  }, 2 * kSeconds, kMillis));
  c.h.env.runPending();
  EXPECT_FALSE(writer.adapter->isOwed(paused.id()));
  EXPECT_EQ(reader.store().get(writer.id())->x, 10'000);
  // Catching up took the newest state, not the backlog of every version.
  EXPECT_LT(paused.adapter->stats().slices_applied, 1000u);
  RecordProperty("max_pending_bytes", std::to_string(max_pending));
  RecordProperty("paused_applied", std::to_string(paused.adapter->stats().slices_applied));
  RecordProperty("reader_applied", std::to_string(reader.adapter->stats().slices_applied));
  RecordProperty("writer_sent", std::to_string(writer.adapter->stats().slices_sent));
}

TEST(StoreSyncAdapter, SliceClaimingAnotherDeviceIsDropped) {
  SyncCluster c;
  for (int i = 0; i < 3; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  SyncNode& victim = *c.nodes[0];
  SyncNode& liar = *c.nodes[1];
  SyncNode& target = *c.nodes[2];
  ASSERT_TRUE(victim.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());

  DeviceSlice fake;
  fake.device_id = victim.id();
  fake.version = UINT64_MAX;
  auto bytes = MsgpackCodec<Pos>::encode(Pos{666, 666, "forged"});
  fake.data = bytes.value();
  ASSERT_TRUE(liar.core().bus().sendReserved(target.id(), kSyncNamespace,
                                             encodeSyncMessage(SliceUpdate{"pos", fake})).isOk());
  c.h.env.runPending();
  EXPECT_EQ(target.adapter->stats().slices_spoofed, 1u);
  EXPECT_EQ(target.store().get(victim.id()), pos(1));
  // The victim's next real write still goes through.
  ASSERT_TRUE(victim.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.settle());
  EXPECT_EQ(target.store().get(victim.id()), pos(2));
}

TEST(StoreSyncAdapter, UnknownStoreIsCountedAndAStoreAddedLaterIsRequested) {
  SyncCluster c;
  SyncNode& a = c.add({"a"});
  SyncNode& b = c.add({"a", "b"});
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(b.store("b").set(pos(7)).isOk());
  c.h.env.advance(100 * kMillis);
  EXPECT_GE(a.adapter->stats().slices_unknown_store, 1u);
  c.addStore(a, "b");
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.store("b").get(b.id()).has_value(); }, 1 * kSeconds, kMillis));
  EXPECT_EQ(a.store("b").get(b.id()), pos(7));
  ASSERT_TRUE(a.store("b").set(pos(8)).isOk());
  ASSERT_TRUE(c.settle("b"));
  EXPECT_EQ(b.store("b").get(a.id()), pos(8));
}

TEST(StoreSyncAdapter, SeveralStoresPerNodeSyncIndependently) {
  SyncCluster c;
  for (int i = 0; i < 3; ++i) c.add({"alpha", "beta", "gamma"});
  ASSERT_TRUE(c.allConnected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.nodes[i]->store("alpha").set(pos(i)).isOk());
    ASSERT_TRUE(c.nodes[i]->store("beta").set(pos(100 + i)).isOk());
  }
  ASSERT_TRUE(c.settle("alpha"));
  ASSERT_TRUE(c.settle("beta"));
  for (auto& n : c.nodes) {
    EXPECT_EQ(n->store("alpha").all().size(), 3u);
    EXPECT_EQ(n->store("beta").get(c.nodes[2]->id()), pos(102));
    EXPECT_TRUE(n->store("gamma").all().empty());
  }
}

TEST(StoreSyncAdapter, CrashedPeersSlicesAreRemovedWithLinkLost) {
  SyncCluster c;
  for (int i = 0; i < 3; ++i) c.add({"a", "b"});
  ASSERT_TRUE(c.allConnected());
  for (auto& n : c.nodes) {
    ASSERT_TRUE(n->store("a").set(pos(1)).isOk());
    ASSERT_TRUE(n->store("b").set(pos(2)).isOk());
  }
  ASSERT_TRUE(c.settle("a"));
  ASSERT_TRUE(c.settle("b"));
  c.h.env.advance(2 * kSeconds);
  const DeviceId gone = c.nodes[2]->id();
  c.crash(*c.nodes[2]);
  ASSERT_TRUE(c.h.env.advanceUntil([&] {
    return !c.nodes[0]->store("a").get(gone) && !c.nodes[1]->store("b").get(gone);
  }, 5 * kSeconds, kMillis));
  for (int i = 0; i < 2; ++i) {
    for (const char* s : {"a", "b"}) {
      auto& removed = c.nodes[i]->events[s].removed;
      ASSERT_EQ(removed.size(), 1u);
      EXPECT_EQ(removed[0].device, gone);
      EXPECT_EQ(removed[0].reason, LeaveReason::kLinkLost);
      EXPECT_EQ(c.nodes[i]->store(s).all().size(), 2u);
    }
  }
}

// A listener may unregister stores while the adapter walks them to evict a peer or to stop
// (the C API's ms_store_free does, inside a PeerRemoved callback): the walk must not step on
// the removed entries (a use after free of the map node, which ASan reports) and must still
// reach every store that is left.
TEST(StoreSyncAdapter, ListenersMayRemoveStoresWhileAPeerIsEvictedOrTheAdapterStops) {
  SyncCluster c;
  SyncNode& a = c.add({"a", "b", "c"});
  SyncNode& b = c.add({"a", "b", "c"});
  SyncNode& d = c.add({"c"});
  ASSERT_TRUE(c.allConnected());
  for (const char* s : {"a", "b", "c"}) ASSERT_TRUE(b.store(s).set(pos(1)).isOk());
  ASSERT_TRUE(d.store("c").set(pos(2)).isOk());
  for (const char* s : {"a", "b", "c"}) ASSERT_TRUE(c.settle(s));
  // Store "a" removes itself and "b" (the next one of the walk) on its first removal.
  int fired = 0;
  ListenerHandle remover = a.store("a").listen([&](const PosStore::Event& e) {
    if (!std::holds_alternative<PosStore::PeerRemoved>(e) || fired++) return;
    EXPECT_TRUE(a.adapter->removeStore("a").isOk());
    EXPECT_TRUE(a.adapter->removeStore("b").isOk());
  });
  c.crash(b);
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !a.store("c").get(b.id()); }, 5 * kSeconds, kMillis))
      << "the store after the removed ones still loses b's slice";
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(a.adapter->removeStore("a").code(), Code::kNotFound);
  EXPECT_EQ(a.adapter->removeStore("b").code(), Code::kNotFound);
  ASSERT_EQ(a.events["c"].removed.size(), 1u);
  EXPECT_EQ(a.events["c"].removed[0].reason, LeaveReason::kLinkLost);

  // Stopping: a listener of "c" removes "c" itself during the stop's walk.
  ASSERT_EQ(a.store("c").get(d.id()), pos(2));
  ListenerHandle stopper = a.store("c").listen([&](const PosStore::Event& e) {
    if (std::holds_alternative<PosStore::PeerRemoved>(e)) a.adapter->removeStore("c").ignore();
  });
  a.adapter->stop();
  EXPECT_TRUE(a.store("c").remoteSlices().empty());
  EXPECT_EQ(a.adapter->removeStore("c").code(), Code::kNotFound);
}

TEST(StoreSyncAdapter, GracefulStopOfAPeerRemovesItsSlicesWithGoodbye) {
  SyncCluster c;
  for (int i = 0; i < 2; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.nodes[1]->store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  c.nodes[1]->adapter->stop();
  c.h.stopNode(*c.nodes[1]->node);
  c.h.env.runPending();
  auto& removed = c.nodes[0]->events["pos"].removed;
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].reason, LeaveReason::kGoodbye);
}

// The Truffle bug: a device restarted without persistence and with its clock not advanced
// writes versions below the ones its peers still hold; it must not be locked out.
TEST(StoreSyncAdapter, RestartedDeviceWithLowerVersionsIsAcceptedAfterRepair) {
  SyncCluster c;
  StoreOptions frozen;
  frozen.wall_clock = [] { return int64_t{1'700'000'000'000}; };
  SyncNode& a = c.add({"pos"});
  SyncNode& r = c.add({"pos"}, frozen);
  SyncNode& b = c.add({"pos"});
  ASSERT_TRUE(c.allConnected());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(r.store().set(pos(i)).isOk());
  ASSERT_TRUE(c.settle());
  const uint64_t old_version = r.store().localSlice().version;
  c.h.env.advance(2 * kSeconds);

  c.restart(r, {"pos"}, frozen);
  ASSERT_TRUE(r.store().set(pos(42)).isOk());
  EXPECT_LT(r.store().localSlice().version, old_version);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] {
    return a.store().get(r.id()) == pos(42) && b.store().get(r.id()) == pos(42);
  }, 2 * kSeconds, kMillis));
  EXPECT_GT(r.store().localSlice().version, old_version);
  EXPECT_GE(r.adapter->stats().repairs, 1u);
  EXPECT_EQ(a.node->events.leftCount(r.id()), 0) << "the repair, not an eviction, let it in";
  // (The low version need not reach a at all: r's slices wait for a's join request, and a's
  // join digest, which comes first, already made r repair.)
  ASSERT_TRUE(c.settle());
}

TEST(StoreSyncAdapter, RestartedDeviceReusingTheSameVersionWithOtherDataIsRepaired) {
  SyncCluster c;
  StoreOptions frozen;
  frozen.wall_clock = [] { return int64_t{1'700'000'000'000}; };
  SyncNode& a = c.add({"pos"});
  SyncNode& r = c.add({"pos"}, frozen);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(r.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  const uint64_t old_version = r.store().localSlice().version;
  c.h.env.advance(2 * kSeconds);

  c.restart(r, {"pos"}, frozen);
  ASSERT_TRUE(r.store().set(pos(2)).isOk());
  ASSERT_EQ(r.store().localSlice().version, old_version) << "same version, different data";
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.store().get(r.id()) == pos(2); }, 2 * kSeconds, kMillis));
  EXPECT_EQ(a.node->events.leftCount(r.id()), 0);
}

TEST(StoreSyncAdapter, RestartedDeviceThatWritesAfterRejoiningLandsAboveItsOldVersion) {
  SyncCluster c;
  StoreOptions frozen;
  frozen.wall_clock = [] { return int64_t{1'700'000'000'000}; };
  SyncNode& a = c.add({"pos"});
  SyncNode& r = c.add({"pos"}, frozen);
  ASSERT_TRUE(c.allConnected());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(r.store().set(pos(i)).isOk());
  ASSERT_TRUE(c.settle());
  const uint64_t old_version = r.store().localSlice().version;
  c.h.env.advance(2 * kSeconds);

  c.restart(r, {"pos"}, frozen);
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(100 * kMillis);
  EXPECT_EQ(a.store().get(r.id()), pos(3)) << "nothing written yet: peers keep the last value";
  ASSERT_TRUE(r.store().set(pos(5)).isOk());
  EXPECT_GT(r.store().localSlice().version, old_version);
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.store().get(r.id()) == pos(5); }, 1 * kSeconds, kMillis));
}

TEST(StoreSyncAdapter, RestartAfterEvictionNeedsNoRepair) {
  SyncCluster c;
  StoreOptions frozen;
  frozen.wall_clock = [] { return int64_t{1'700'000'000'000}; };
  SyncNode& a = c.add({"pos"});
  SyncNode& r = c.add({"pos"}, frozen);
  ASSERT_TRUE(c.allConnected());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(r.store().set(pos(i)).isOk());
  ASSERT_TRUE(c.settle());
  c.h.env.advance(2 * kSeconds);
  c.crash(r);
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return !a.store().get(r.id()); }, 5 * kSeconds, kMillis));
  c.h.net.setRefusing(r.node->address, false);
  c.restart(r, {"pos"}, frozen);
  ASSERT_TRUE(r.store().set(pos(9)).isOk());
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.store().get(r.id()) == pos(9); }, 1 * kSeconds, kMillis));
  EXPECT_EQ(r.adapter->stats().repairs, 0u);
}

TEST(StoreSyncAdapter, AntiEntropyRestoresASliceThatWentMissing) {
  SyncCluster c;
  for (int i = 0; i < 2; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  SyncNode& a = *c.nodes[0];
  SyncNode& b = *c.nodes[1];
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  // As if b had missed it: only a digest can tell b what a holds.
  b.store().removeRemoteSlice(a.id(), LeaveReason::kTimeout);
  ASSERT_FALSE(b.store().get(a.id()));
  const uint64_t digests_before = b.adapter->stats().digests_received;
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return b.store().get(a.id()) == pos(1); },
                                   c.adapter_options.anti_entropy_interval * 5 / 4 + 100 * kMillis, kMillis));
  EXPECT_GT(b.adapter->stats().digests_received, digests_before);
  EXPECT_GT(b.adapter->stats().requests_sent, 1u);
}

TEST(StoreSyncAdapter, AntiEntropyReplacesAnOlderVersionAPeerIsLeftWith) {
  SyncCluster c;
  for (int i = 0; i < 2; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  SyncNode& a = *c.nodes[0];
  SyncNode& b = *c.nodes[1];
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  const DeviceSlice old = a.store().localSlice();
  ASSERT_TRUE(a.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.settle());
  // As if b had missed the second update.
  b.store().removeRemoteSlice(a.id(), LeaveReason::kTimeout);
  ASSERT_EQ(b.store().applyRemoteSlice(old), ApplyResult::kApplied);
  ASSERT_EQ(b.store().get(a.id()), pos(1));
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return b.store().get(a.id()) == pos(2); },
                                   c.adapter_options.anti_entropy_interval * 5 / 4 + 100 * kMillis, kMillis));
  EXPECT_EQ(a.adapter->stats().repairs, 0u);
}

TEST(StoreSyncAdapter, AntiEntropyRunsOnAJitteredPeriodAndSettlesQuietly) {
  SyncCluster c;
  for (int i = 0; i < 3; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.nodes[i]->store().set(pos(i)).isOk());
  ASSERT_TRUE(c.settle());
  c.h.env.advance(2 * kSeconds);
  const SyncStats before = c.nodes[0]->adapter->stats();
  c.h.env.advance(60 * kSeconds);
  const SyncStats after = c.nodes[0]->adapter->stats();
  const uint64_t rounds = (after.digests_sent - before.digests_sent) / 2;  // two peers
  EXPECT_GE(rounds, 60 / 6u);
  EXPECT_LE(rounds, 60 / 3u + 1);
  EXPECT_EQ(after.slices_sent, before.slices_sent) << "in-sync digests cause no traffic";
  EXPECT_EQ(after.repairs, 0u);
}

TEST(StoreSyncAdapter, DigestsAreSplitAtTheEntryLimit) {
  std::vector<DigestEntry> entries(2 * kMaxSyncEntries + 5, DigestEntry{"s", DeviceId(), 1});
  auto parts = splitDigest(entries);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].entries.size(), kMaxSyncEntries);
  EXPECT_EQ(parts[2].entries.size(), 5u);
  for (const Digest& d : parts) EXPECT_TRUE(validateSyncMessage(d).isOk());
  EXPECT_TRUE(splitDigest({}).empty());
}

TEST(StoreSyncAdapter, ReLinkAfterAResetDeliversWhatWasWrittenMeanwhile) {
  SyncCluster c;
  for (int i = 0; i < 2; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(2 * kSeconds);
  SyncNode& a = *c.nodes[0];
  SyncNode& b = *c.nodes[1];
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  c.h.net.cutLinksOf(a.node->address);
  ASSERT_TRUE(a.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return b.store().get(a.id()) == pos(2); }, 1 * kSeconds, kMillis));
  EXPECT_EQ(a.node->events.left.size(), 0u);
  EXPECT_TRUE(b.events["pos"].removed.empty());
}

TEST(StoreSyncAdapter, StopClearsRemoteSlicesAndSendsNothingMore) {
  SyncCluster c;
  for (int i = 0; i < 2; ++i) c.add();
  ASSERT_TRUE(c.allConnected());
  SyncNode& a = *c.nodes[0];
  SyncNode& b = *c.nodes[1];
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(b.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.settle());
  a.adapter->stop();
  EXPECT_TRUE(a.store().remoteSlices().empty());
  ASSERT_EQ(a.events["pos"].removed.size(), 1u);
  EXPECT_EQ(a.events["pos"].removed[0].reason, LeaveReason::kStopped);
  const SyncStats stopped = a.adapter->stats();
  ASSERT_TRUE(a.store().set(pos(3)).isOk());
  ASSERT_TRUE(b.store().set(pos(4)).isOk());
  c.h.env.advance(20 * kSeconds);
  EXPECT_EQ(a.adapter->stats().slices_sent, stopped.slices_sent);
  EXPECT_EQ(a.adapter->stats().digests_sent, stopped.digests_sent);
  EXPECT_EQ(a.adapter->stats().requests_sent, stopped.requests_sent);
  EXPECT_EQ(b.store().get(a.id()), pos(1));
  EXPECT_FALSE(a.store().get(b.id()));
  EXPECT_EQ(a.adapter->addStore(a.store()).code(), Code::kClosed);
}

TEST(StoreSyncAdapter, AddStoreValidatesAndRemoveStoreLetsGo) {
  SyncCluster c;
  SyncNode& a = c.add({"pos"});
  SyncNode& b = c.add({"pos"});
  ASSERT_TRUE(c.allConnected());
  EXPECT_EQ(a.adapter->addStore(a.store()).code(), Code::kAlreadyExists);
  ASSERT_TRUE(b.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  ASSERT_TRUE(a.adapter->removeStore("pos").isOk());
  EXPECT_EQ(a.adapter->removeStore("pos").code(), Code::kNotFound);
  EXPECT_TRUE(a.store().remoteSlices().empty());
  ASSERT_TRUE(b.store().set(pos(2)).isOk());
  c.h.env.advance(100 * kMillis);
  EXPECT_FALSE(a.store().get(b.id()));
  EXPECT_GE(a.adapter->stats().slices_unknown_store, 1u);
  ASSERT_TRUE(a.store().set(pos(3)).isOk());
  c.h.env.advance(100 * kMillis);
  EXPECT_EQ(b.store().get(a.id()), std::nullopt) << "a removed store is not synced";
}

TEST(StoreSyncAdapter, AdapterCreatedAfterTheLinksAreUpStillSyncs) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add();
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  // A fresh adapter and store on b, while the link stays up.
  b.adapter.reset();
  b.stores.clear();
  b.events.clear();
  b.adapter = std::make_unique<StoreSyncAdapter>(c.h.env, b.core());
  c.addStore(b, "pos");
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return b.store().get(a.id()) == pos(1); }, 1 * kSeconds, kMillis));
}

TEST(StoreSyncAdapter, MalformedSyncMessagesAreCountedAndIgnored) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add();
  ASSERT_TRUE(c.allConnected());
  const Bytes junk[] = {{}, {0xc1}, {0x92, 0x07, 0x90}, {0x92, 0x02}, toBytes("not msgpack at all")};
  for (const Bytes& j : junk) ASSERT_TRUE(b.core().bus().sendReserved(a.id(), kSyncNamespace, j).isOk());
  c.h.env.runPending();
  EXPECT_EQ(a.adapter->stats().malformed, std::size(junk));
  ASSERT_TRUE(b.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
}

TEST(StoreSyncAdapter, RemoteDataThatIsNotTheStoresTypeIsRejected) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& b = c.add({});
  StoreOptions env_clock;  // versions from the cluster's clock: others would be implausible
  env_clock.wall_clock = [&c] { return c.h.env.wallMillis(); };
  RawStore raw("pos", b.id(), env_clock);
  ASSERT_TRUE(b.adapter->addStore(raw).isOk());
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(raw.set(toBytes("{\"json\": true}")).isOk());
  c.h.env.advance(100 * kMillis);
  EXPECT_FALSE(a.store().get(b.id()));
  EXPECT_EQ(a.adapter->stats().slices_rejected, 1u);
  EXPECT_EQ(a.store().stats().rejected, 1u);
  // A valid value later is accepted.
  ASSERT_TRUE(raw.set(MsgpackCodec<Pos>::encode(pos(3)).value()).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.store().get(b.id()) == pos(3); }, 1 * kSeconds, kMillis));
  // And the raw side holds a's bytes as they are.
  ASSERT_TRUE(a.store().set(pos(4)).isOk());
  c.h.env.advance(100 * kMillis);
  EXPECT_EQ(raw.get(a.id()), MsgpackCodec<Pos>::encode(pos(4)).value());
  b.adapter.reset();  // before `raw` goes away
}

}  // namespace
}  // namespace meshslice
