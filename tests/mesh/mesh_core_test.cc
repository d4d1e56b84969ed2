#include "mesh/mesh_core.h"

#include <gtest/gtest.h>

#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::MeshHarness;

TEST(MeshCore, ThreeNodesFormAFullMeshWithOneLinkPerPair) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  for (auto& n : h.nodes) {
    EXPECT_EQ(n->core->peers().size(), 2u);
    EXPECT_EQ(n->events.joined.size(), 2u);
    EXPECT_TRUE(n->events.left.empty());
  }
  auto peers = h.nodes[0]->core->peers();
  EXPECT_EQ(peers[0].protocol_version, kProtocolVersion);
}

TEST(MeshCore, SimultaneousDialsKeepExactlyOneLinkAndNoFlap) {
  MeshHarness h;
  MeshOptions o;
  h.addNode(o, {"node1"});
  h.addNode(o, {"node0"});
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);
  EXPECT_EQ(h.net.openLinks(), 2u) << "one link = two link ends";
  for (auto& n : h.nodes) {
    EXPECT_EQ(n->events.joined.size(), 1u);
    EXPECT_TRUE(n->events.left.empty());
  }
}

TEST(MeshCore, WrongMeshSecretNeverJoins) {
  MeshHarness h;
  h.addNode();
  Key32 other;
  other.fill(0x99);
  h.addNode({}, {"node0"}, &other);
  h.env.advance(3 * kSeconds);
  EXPECT_TRUE(h.nodes[0]->core->peers().empty());
  EXPECT_TRUE(h.nodes[1]->core->peers().empty());
  EXPECT_GT(h.nodes[0]->core->stats().handshakes_failed, 0u);
}

TEST(MeshCore, GoodbyeEvictsAtOnce) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  DeviceId gone = h.nodes[2]->id();
  h.stopNode(*h.nodes[2]);
  h.env.runPending();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(h.nodes[i]->events.left.size(), 1u);
    EXPECT_EQ(h.nodes[i]->events.left[0].id, gone);
    EXPECT_EQ(h.nodes[i]->events.left[0].reason, LeaveReason::kGoodbye);
  }
}

TEST(MeshCore, CrashedPeerIsEvictedWhenItsRedialIsRefused) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);  // settled links: a fresh one that drops is redialed with backoff
  DeviceId gone = h.nodes[0]->id();
  Micros t0 = h.env.now();
  h.crashNode(*h.nodes[0]);
  ASSERT_TRUE(h.env.advanceUntil([&] {
    return h.nodes[1]->events.leftCount(gone) == 1 && h.nodes[2]->events.leftCount(gone) == 1;
  }, 5 * kSeconds, kMillis));
  EXPECT_LT(h.env.now() - t0, 50 * kMillis);
  EXPECT_EQ(h.nodes[1]->events.left[0].reason, LeaveReason::kLinkLost);
}

TEST(MeshCore, SilentPeerIsEvictedAfterTheLivenessTimeoutAndNotBefore) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  h.env.advance(10 * kSeconds);  // idle links stay up on heartbeats alone
  EXPECT_TRUE(h.nodes[0]->events.left.empty());
  Micros t0 = h.env.now();
  h.silenceNode(*h.nodes[1]);
  ASSERT_TRUE(h.env.advanceUntil([&] { return !h.nodes[0]->events.left.empty(); }, 10 * kSeconds, kMillis));
  Micros took = h.env.now() - t0;
  EXPECT_GE(took, 2 * kSeconds);  // liveness_timeout 3 s minus at most one heartbeat interval
  EXPECT_LE(took, 3 * kSeconds + 300 * kMillis);
  EXPECT_EQ(h.nodes[0]->events.left[0].reason, LeaveReason::kTimeout);
}

TEST(MeshCore, ALinkResetFollowedByAReconnectCausesNoEviction) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  int linked_before = h.nodes[0]->events.linked;
  h.net.cutLinksOf("node0");  // both ends see the close, as on a TCP reset
  ASSERT_TRUE(h.env.advanceUntil([&] { return h.nodes[0]->events.linked > linked_before; }, 5 * kSeconds, kMillis));
  ASSERT_TRUE(h.allConnected());
  h.env.advance(5 * kSeconds);
  for (auto& n : h.nodes) {
    EXPECT_TRUE(n->events.left.empty()) << "no PeerLeft on a single reset";
    EXPECT_EQ(n->events.joined.size(), 1u) << "no second PeerJoined";
  }
}

TEST(MeshCore, LinkLossWithoutReconnectEvictsAfterTheGracePeriod) {
  MeshHarness h;
  MeshOptions o;
  o.reconnect_grace = 800 * kMillis;
  h.addNode(o);
  h.addNode(o, {"node0"});
  ASSERT_TRUE(h.allConnected());
  // node0 never dialed node1, so it cannot redial: only the grace period applies. node1's
  // redials are refused... by making node0 refuse, node1 learns quickly; node0 waits the grace.
  h.net.setRefusing("node0", true);
  Micros t0 = h.env.now();
  h.net.cutLinksOf("node0");
  ASSERT_TRUE(h.env.advanceUntil([&] { return !h.nodes[0]->events.left.empty(); }, 5 * kSeconds, kMillis));
  EXPECT_GE(h.env.now() - t0, 800 * kMillis);
  EXPECT_EQ(h.nodes[0]->events.left[0].reason, LeaveReason::kLinkLost);
  EXPECT_EQ(h.nodes[0]->events.left[0].id, h.nodes[1]->id());
}

TEST(MeshCore, RevokedDeviceIsEvictedAndCannotReconnect) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  DeviceId bad = h.nodes[2]->id();
  h.nodes[0]->core->revoke(bad);
  h.env.advance(3 * kSeconds);
  EXPECT_FALSE(h.nodes[0]->core->isConnected(bad));
  ASSERT_FALSE(h.nodes[0]->events.left.empty());
  EXPECT_EQ(h.nodes[0]->events.left[0].reason, LeaveReason::kRevoked);
  EXPECT_TRUE(h.nodes[0]->core->isConnected(h.nodes[1]->id()));
}

TEST(MeshCore, StopClosesEveryLinkAndDrains) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  for (auto& n : h.nodes) n->core->stop();
  h.env.advance(2 * kSeconds);
  for (auto& n : h.nodes) EXPECT_TRUE(n->core->drained());
  EXPECT_EQ(h.net.openLinks(), 0u);
}

}  // namespace
}  // namespace meshslice
