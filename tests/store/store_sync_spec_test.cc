// What docs/STORES.md section 3 and PROTOCOL.md section 7 promise a second implementation,
// driven from a hand-written peer (a bare MeshCore without an adapter: every sync message it
// sends is written here). Issue 14, section 3.
#include <gtest/gtest.h>

#include "tests/store/sync_cluster.h"

namespace meshslice {
namespace {

using test::pos;
using test::SyncCluster;
using test::SyncNode;
using test::TestNode;

// A peer whose sync traffic the test writes by hand; it records the SliceUpdates it receives.
struct HandPeer {
  TestNode* node = nullptr;
  std::vector<SliceUpdate> updates;
  Subscription tap;

  // Dials every node of the cluster (allConnected() wants a full mesh).
  static HandPeer joining(SyncCluster& c) {
    std::vector<std::string> dial;
    for (auto& n : c.h.nodes) dial.push_back(n->address);
    HandPeer p;
    p.node = &c.h.addNode({}, dial);
    return p;
  }
  void record() {
    auto sub = node->core->bus().subscribeReserved(kSyncNamespace, [this](const BusMessageEvent& m) {
      auto msg = decodeSyncMessage(m.payload);
      if (msg && std::holds_alternative<SliceUpdate>(*msg)) updates.push_back(std::get<SliceUpdate>(*msg));
    });
    ASSERT_TRUE(sub.isOk());
    tap = std::move(sub).value();
  }
  void send(SyncNode& to, const SyncMessage& m) {
    ASSERT_TRUE(node->core->bus().sendReserved(to.id(), kSyncNamespace, encodeSyncMessage(m)).isOk());
  }
};

// `a` has written "pos" and "other"; `p` is linked to it and records what it gets.
void withTwoWrittenStores(SyncCluster& c, SyncNode& a, HandPeer& p) {
  ASSERT_TRUE(a.store().set(pos(1)).isOk());
  ASSERT_TRUE(a.store("other").set(pos(2)).isOk());
  p = HandPeer::joining(c);
  p.record();
  ASSERT_TRUE(c.allConnected());
}

// Join skips come only from the peer's join digest: a named request answered earlier on the
// link does not shrink the answer to the join request (it used to: the slice counted as sent).
TEST(StoreSyncSpec, ANamedRequestBeforeTheJoinRequestDoesNotChangeItsAnswer) {
  SyncCluster c;
  SyncNode& a = c.add({"pos", "other"});
  HandPeer p;
  ASSERT_NO_FATAL_FAILURE(withTwoWrittenStores(c, a, p));
  c.h.env.runPending();
  EXPECT_TRUE(p.updates.empty()) << "slices wait for the peer's join request";

  p.send(a, SliceRequest{{"pos"}});
  c.h.env.runPending();
  ASSERT_EQ(p.updates.size(), 1u) << "a named request is answered with the named slice";
  EXPECT_EQ(p.updates[0].store_id, "pos");

  p.send(a, SliceRequest{});  // the join request, with no join digest before it
  c.h.env.runPending();
  ASSERT_EQ(p.updates.size(), 3u) << "the join request gets every local slice again";
  EXPECT_EQ(a.adapter->stats().join_skips, 0u);
}

TEST(StoreSyncSpec, TheJoinDigestDecidesWhatTheJoinRequestSkips) {
  SyncCluster c;
  SyncNode& a = c.add({"pos", "other"});
  HandPeer p;
  ASSERT_NO_FATAL_FAILURE(withTwoWrittenStores(c, a, p));
  p.send(a, SliceRequest{{"pos"}});
  c.h.env.runPending();
  ASSERT_EQ(p.updates.size(), 1u);

  // The join digest: it holds "pos" at a's current version and incarnation.
  const SliceUpdate& held = p.updates[0];
  p.send(a, Digest{{DigestEntry{"pos", a.id(), held.slice.version, held.incarnation}}});
  p.send(a, SliceRequest{});
  c.h.env.runPending();
  ASSERT_EQ(p.updates.size(), 2u) << "only the slice the join digest did not show";
  EXPECT_EQ(p.updates[1].store_id, "other");
  EXPECT_EQ(a.adapter->stats().join_skips, 1u);
}

// A sync rule broken by a linked peer (here: a slice of another device) drops the message and
// keeps the link (PROTOCOL.md preamble and section 7): the sender's own traffic still counts.
TEST(StoreSyncSpec, ASpoofedSliceIsDroppedAndTheLinkKept) {
  SyncCluster c;
  SyncNode& a = c.add();
  SyncNode& victim = c.add();
  ASSERT_TRUE(victim.store().set(pos(1)).isOk());
  HandPeer p = HandPeer::joining(c);
  ASSERT_TRUE(c.allConnected());
  ASSERT_TRUE(c.settle());
  const int linked = a.node->events.linked;

  DeviceSlice fake{victim.id(), victim.store().localSlice().version + 1, 0, MsgpackCodec<test::Pos>::encode(pos(666)).value()};
  p.send(a, SliceUpdate{"pos", fake, 1});
  DeviceSlice own{p.node->id(), 1'000, 0, MsgpackCodec<test::Pos>::encode(pos(5)).value()};
  p.send(a, SliceUpdate{"pos", own, 1});
  c.h.env.advance(100 * kMillis);
  EXPECT_EQ(a.adapter->stats().slices_spoofed, 1u);
  EXPECT_EQ(a.store().get(victim.id()), pos(1));
  EXPECT_EQ(a.store().get(p.node->id()), pos(5)) << "the link stayed up: the next message counted";
  EXPECT_TRUE(a.core().isConnected(p.node->id()));
  EXPECT_EQ(a.node->events.linked, linked) << "no re-link either";
  EXPECT_EQ(a.node->events.leftCount(p.node->id()), 0);
}

}  // namespace
}  // namespace meshslice
