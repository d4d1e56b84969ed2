// The join exchange: re-links that cost nothing thanks to incarnations, restarts that are
// still never locked out, stores added while links are up, and peers using protocol 1 forms.
#include <gtest/gtest.h>

#include "store/store_sync_adapter.h"
#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::Pos;
using test::pos;
using test::PosStore;
using test::SyncCluster;
using test::SyncNode;

StoreOptions frozenClock() {
  StoreOptions o;
  o.wall_clock = [] { return int64_t{1'700'000'000'000}; };
  return o;
}

struct Snapshot {
  uint64_t slices_sent, repairs, join_skips;
  std::map<std::string, uint64_t> versions;
};

Snapshot snapshot(SyncNode& n) {
  Snapshot s{n.adapter->stats().slices_sent, n.adapter->stats().repairs, n.adapter->stats().join_skips, {}};
  for (auto& [name, store] : n.stores) s.versions[name] = store->localSlice().version;
  return s;
}

TEST(StoreSyncJoin, AReLinkWithinTheGraceSendsNoSliceDataAndRestampsNothing) {
  SyncCluster c;
  for (int i = 0; i < 3; ++i) c.add({"a", "b"});
  ASSERT_TRUE(c.allConnected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.nodes[i]->store("a").set(pos(i)).isOk());
    ASSERT_TRUE(c.nodes[i]->store("b").set(pos(10 + i)).isOk());
  }
  ASSERT_TRUE(c.settle("a"));
  ASSERT_TRUE(c.settle("b"));
  c.h.env.advance(2 * kSeconds);
  std::vector<Snapshot> before;
  for (auto& n : c.nodes) before.push_back(snapshot(*n));
  const int linked = c.nodes[0]->node->events.linked;

  c.h.net.cutLinksOf(c.nodes[0]->node->address);  // a TCP reset of both of node0's links
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return c.nodes[0]->node->events.linked >= linked + 2; }, 5 * kSeconds, kMillis));
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(500 * kMillis);  // the join exchanges run to the end (no anti-entropy yet)

  for (size_t i = 0; i < c.nodes.size(); ++i) {
    Snapshot now = snapshot(*c.nodes[i]);
    EXPECT_EQ(now.slices_sent, before[i].slices_sent) << "node" << i << " sent slice data on a re-link";
    EXPECT_EQ(now.repairs, before[i].repairs) << "node" << i;
    EXPECT_EQ(now.versions, before[i].versions) << "node" << i << " re-stamped (and re-saved) a slice";
    EXPECT_TRUE(c.nodes[i]->node->events.left.empty());
    for (auto& [name, events] : c.nodes[i]->events) EXPECT_TRUE(events.removed.empty());
  }
  EXPECT_EQ(snapshot(*c.nodes[0]).join_skips - before[0].join_skips, 4u) << "2 peers x 2 stores held already";
  EXPECT_EQ(snapshot(*c.nodes[1]).join_skips - before[1].join_skips, 2u);
  EXPECT_TRUE(c.converged("a"));
  EXPECT_TRUE(c.converged("b"));
  // What was written meanwhile still goes out.
  ASSERT_TRUE(c.nodes[0]->store("a").set(pos(99)).isOk());
  ASSERT_TRUE(c.settle("a"));
}

TEST(StoreSyncJoin, ARestartReusingAVersionIsRepairedEvenAfterCheapReLinks) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& r = c.add({"pos"}, frozenClock());
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(r.store().set(pos(1)).isOk());
  ASSERT_TRUE(c.settle());
  c.h.env.advance(2 * kSeconds);
  const uint64_t old_version = r.store().localSlice().version;
  const uint64_t sent = r.adapter->stats().slices_sent;
  c.h.net.cutLinksOf(a.node->address);
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(500 * kMillis);
  ASSERT_EQ(r.adapter->stats().slices_sent, sent) << "the re-link was free";

  // A new process: same identity, no persistence, clock unchanged: the same version with
  // other data, while a still holds the old one.
  c.restart(r, {"pos"}, frozenClock());
  ASSERT_TRUE(r.store().set(pos(2)).isOk());
  ASSERT_EQ(r.store().localSlice().version, old_version);
  ASSERT_NE(r.adapter->incarnationOf("pos"), 0u);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.h.env.advanceUntil([&] { return a.store().get(r.id()) == pos(2); }, 2 * kSeconds, kMillis))
      << "the restarted device is locked out";
  EXPECT_GT(r.store().localSlice().version, old_version);
  EXPECT_GE(r.adapter->stats().repairs, 1u);
  EXPECT_EQ(a.node->events.leftCount(r.id()), 0);
}

TEST(StoreSyncJoin, AStoreAddedWhileLinksAreUpDoesTheJoinExchangeForItself) {
  AdapterOptions ao;
  ao.anti_entropy_interval = 600 * kSeconds;  // only the join exchange can do the work
  SyncCluster c(MeshOptions{}, ao);
  SyncNode& late = c.add({});
  SyncNode& b = c.add({"late"});
  SyncNode& d = c.add({"late"});
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(b.store("late").set(pos(2)).isOk());
  ASSERT_TRUE(d.store("late").set(pos(3)).isOk());
  c.h.env.advance(100 * kMillis);

  // A store with a slice written before it is added.
  auto first = PosStore::open("late", late.id(), frozenClock());
  ASSERT_TRUE(first.isOk());
  ASSERT_TRUE((*first)->set(pos(1)).isOk());
  const uint64_t version = (*first)->localSlice().version;
  const SyncStats before = late.adapter->stats();
  ASSERT_TRUE(late.adapter->addStore(**first).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] {
    return (*first)->all().size() == 3 && b.store("late").get(late.id()) == pos(1) && d.store("late").get(late.id()) == pos(1);
  }, 100 * kMillis, kMillis)) << "it sends what it has and gets what they have, at once";
  EXPECT_EQ((*first)->get(b.id()), pos(2));
  EXPECT_EQ((*first)->get(d.id()), pos(3));
  EXPECT_EQ(late.adapter->stats().digests_sent - before.digests_sent, 2u) << "a digest to each peer";
  EXPECT_EQ(late.adapter->stats().requests_sent - before.requests_sent, 2u) << "a request to each peer";

  // The store goes and a new one comes under the same ID, reusing the version with other data
  // (no persistence, same clock). The peers' answers show they hold the earlier
  // incarnation's slice: it is repaired at once.
  ASSERT_TRUE(late.adapter->removeStore("late").isOk());
  first.value().reset();
  auto second = PosStore::open("late", late.id(), frozenClock());
  ASSERT_TRUE(second.isOk());
  ASSERT_TRUE((*second)->set(pos(7)).isOk());
  ASSERT_EQ((*second)->localSlice().version, version);
  ASSERT_TRUE(late.adapter->addStore(**second).isOk());
  ASSERT_TRUE(c.h.env.advanceUntil([&] {
    return b.store("late").get(late.id()) == pos(7) && d.store("late").get(late.id()) == pos(7);
  }, 200 * kMillis, kMillis)) << "the peers kept the earlier run's value";
  EXPECT_GT((*second)->localSlice().version, version);
  EXPECT_GE(late.adapter->stats().repairs, 1u);
  late.adapter->stop();  // before `second` goes away
}

// A peer that only speaks the protocol 1 sync forms (as an older build would): its messages
// carry no incarnations, so the join digest's timing rule alone protects restarts, and
// re-links cost a re-stamp again, but everything still syncs.
TEST(StoreSyncJoin, APeerUsingProtocolOneFormsStillSyncs) {
  SyncCluster c;
  SyncNode& modern = c.add();
  c.adapter_options.max_protocol_version = 1;
  SyncNode& old = c.add();
  c.adapter_options.max_protocol_version = kProtocolVersion;
  std::vector<uint8_t> old_update_heads, modern_update_heads;
  auto tap = [](std::vector<uint8_t>& heads) {
    return [&heads](const BusMessageEvent& m) {
      auto msg = decodeSyncMessage(m.payload);
      if (msg && std::holds_alternative<SliceUpdate>(*msg)) heads.push_back(m.payload[0]);
    };
  };
  auto on_modern = modern.core().bus().subscribeReserved(kSyncNamespace, tap(old_update_heads));
  auto on_old = old.core().bus().subscribeReserved(kSyncNamespace, tap(modern_update_heads));
  ASSERT_TRUE(on_modern.isOk() && on_old.isOk());
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(modern.store().set(pos(1)).isOk());
  ASSERT_TRUE(old.store().set(pos(2)).isOk());
  ASSERT_TRUE(c.settle());
  ASSERT_FALSE(old_update_heads.empty());
  for (uint8_t h : old_update_heads) EXPECT_EQ(h, 0x96) << "a 6-element (protocol 1) SliceUpdate";
  ASSERT_FALSE(modern_update_heads.empty());
  for (uint8_t h : modern_update_heads) EXPECT_EQ(h, 0x97) << "the link negotiated 2: 7 elements";

  c.h.env.advance(2 * kSeconds);
  c.h.net.cutLinksOf(modern.node->address);
  ASSERT_TRUE(c.allConnected());
  c.h.env.advance(500 * kMillis);
  ASSERT_TRUE(c.settle());
  EXPECT_EQ(modern.store().get(old.id()), pos(2));
  EXPECT_EQ(old.store().get(modern.id()), pos(1));
  EXPECT_GE(modern.adapter->stats().repairs + old.adapter->stats().repairs, 1u)
      << "without incarnations an equal version in a join digest is repaired, as in protocol 1";
  ASSERT_TRUE(old.store().set(pos(3)).isOk());
  ASSERT_TRUE(c.settle());
}

}  // namespace
}  // namespace meshslice
