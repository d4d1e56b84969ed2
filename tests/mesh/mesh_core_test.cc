#include "mesh/mesh_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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

TEST(MeshCore, AReLinkFromANewAddressIsOnePeerUpdated) {
  MeshHarness h;
  h.addFullMesh(2);  // node1 dials node0: node0 sees node1 at a fresh "node1#N" per link
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);
  const std::string before = h.nodes[0]->core->peers().at(0).address;
  const int linked = h.nodes[0]->events.linked;
  h.net.cutLinksOf("node0");
  ASSERT_TRUE(h.env.advanceUntil([&] { return h.nodes[0]->events.linked > linked; }, 5 * kSeconds, kMillis));
  h.env.advance(3 * kSeconds);
  auto& e0 = h.nodes[0]->events;
  ASSERT_EQ(e0.updated.size(), 1u);
  EXPECT_EQ(e0.updated[0].peer.id, h.nodes[1]->id());
  EXPECT_NE(e0.updated[0].peer.address, before);
  EXPECT_EQ(e0.updated[0].peer.address, h.nodes[0]->core->peers().at(0).address);
  EXPECT_EQ(e0.joined.size(), 1u);
  EXPECT_TRUE(e0.left.empty());
  // The dialing side reached the same endpoint again: nothing changed for it.
  EXPECT_TRUE(h.nodes[1]->events.updated.empty());
  EXPECT_TRUE(h.nodes[1]->events.left.empty());
  EXPECT_EQ(h.nodes[1]->events.joined.size(), 1u);
}

TEST(MeshCore, APeerBackWithinTheGraceUnderANewNameIsOnePeerUpdated) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);
  // node1's process restarts with the same identity and a new display name, before node0's
  // grace period for it ends.
  test::TestNode& n1 = *h.nodes[1];
  n1.core.reset();
  n1.transport = std::make_unique<MemoryTransport>(h.net, n1.address);
  n1.device.name = "renamed";
  MeshOptions o;
  o.listen_address = n1.address;
  o.static_peers = {"node0"};
  n1.core = std::make_unique<MeshCore>(h.env, *n1.transport, n1.device, h.psk, o);
  ASSERT_TRUE(n1.core->start().isOk());
  ASSERT_TRUE(h.allConnected());
  h.env.advance(3 * kSeconds);
  auto& e0 = h.nodes[0]->events;
  ASSERT_EQ(e0.updated.size(), 1u);
  EXPECT_EQ(e0.updated[0].peer.id, n1.id());
  EXPECT_EQ(e0.updated[0].peer.name, "renamed");
  EXPECT_EQ(h.nodes[0]->core->peers().at(0).name, "renamed");
  EXPECT_EQ(e0.joined.size(), 1u) << "no second PeerJoined";
  EXPECT_TRUE(e0.left.empty()) << "no PeerLeft";
}

// Redials of an endpoint that refuses: each gap is drawn from [b/2, b] with b doubling from
// backoff_initial up to backoff_max, then staying there.
TEST(MeshCore, RedialGapsFollowJitteredExponentialBackoff) {
  MeshHarness h(7);
  MeshOptions o;
  o.backoff_initial = 100 * kMillis;
  o.backoff_max = 1600 * kMillis;
  test::TestNode& n = h.addNode(o, {"ghost"});  // nothing listens there: every dial is refused
  std::vector<Micros> dials;
  uint64_t seen = 0;
  for (Micros t = 0; t < 30 * kSeconds; t += kMillis) {
    if (n.core->stats().links_dialed != seen) {
      ASSERT_EQ(n.core->stats().links_dialed, seen + 1) << "one dial at a time";
      seen = n.core->stats().links_dialed;
      dials.push_back(h.env.now());
    }
    h.env.advance(kMillis);
  }
  ASSERT_GE(dials.size(), 15u);
  std::vector<Micros> capped;
  Micros b = o.backoff_initial;
  for (size_t i = 1; i < dials.size(); ++i) {
    const Micros gap = dials[i] - dials[i - 1];
    // Dials are seen on a 1 ms grid, so each measured gap is within 1 ms of the real one.
    EXPECT_GE(gap, b / 2 - kMillis) << "gap " << i << " with backoff " << b;
    EXPECT_LE(gap, b + kMillis) << "gap " << i << " with backoff " << b;
    if (b == o.backoff_max) capped.push_back(gap);
    b = std::min(b * 2, o.backoff_max);
  }
  ASSERT_GE(capped.size(), 10u);
  std::sort(capped.begin(), capped.end());
  EXPECT_GT(capped.back() - capped.front(), 50 * kMillis) << "the delays are jittered, not fixed";
  EXPECT_TRUE(n.core->peers().empty());
}

// The dialer table says what each endpoint is doing and why its last attempt failed: the
// answer to "why don't they see each other?" (peers --all).
TEST(MeshCore, DialersReportTheirStateAndLastError) {
  MeshHarness h(3);
  test::TestNode& a = h.addNode();
  test::TestNode& b = h.addNode({}, {a.address, "ghost"});
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);  // "ghost" refuses: several attempts by now
  std::map<std::string, DialerInfo> by_endpoint;
  for (auto& d : b.core->dialers()) by_endpoint[d.endpoint] = d;
  ASSERT_EQ(by_endpoint.size(), 2u);
  const DialerInfo& linked = by_endpoint.at(a.address);
  EXPECT_EQ(linked.state, DialState::kLinked);
  EXPECT_EQ(linked.device, a.id());
  EXPECT_EQ(linked.failures, 0u);
  EXPECT_TRUE(linked.last_error.isOk());
  const DialerInfo& ghost = by_endpoint.at("ghost");
  EXPECT_EQ(ghost.state, DialState::kWaiting);
  EXPECT_TRUE(ghost.device.isZero());
  EXPECT_GE(ghost.failures, 3u);
  EXPECT_EQ(ghost.failures, ghost.attempts) << "every attempt failed";
  EXPECT_FALSE(ghost.last_error.isOk());
  EXPECT_GT(ghost.next_attempt_in, 0);
  EXPECT_LE(ghost.next_attempt_in, MeshOptions{}.backoff_max);
  EXPECT_EQ(b.core->stats().links_dialed, linked.attempts + ghost.attempts);
}

}  // namespace
}  // namespace meshslice
