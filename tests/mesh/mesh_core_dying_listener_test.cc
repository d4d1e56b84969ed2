// kill -9 closes a process's sockets one by one: a peer that redials at once can still be
// accepted by the dying listener and then be reset, before the next connect is refused. That
// accepted-then-closed redial must be retried at once, not after the dial backoff, so the crash
// is still noticed within 50 ms.
#include <gtest/gtest.h>

#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::MeshHarness;

TEST(MeshCoreDyingListener, RedialAcceptedThenClosedIsRetriedAtOnceAndTheCrashEvicts) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);  // settled links: the first redial goes out at once
  DeviceId gone = h.nodes[0]->id();
  h.crashNode(*h.nodes[0]);
  // The dying process's listener: it accepts each connection and drops it, and refuses all
  // connections after the first two (its socket is closed by then).
  MemoryTransport dying(h.net, "node0");
  int accepted = 0;
  h.net.setRefusing("node0", false);
  ASSERT_TRUE(dying.listen("node0", [&](std::unique_ptr<Link> link) {
    link.reset();
    if (++accepted == 2) h.net.setRefusing("node0", true);
  }).isOk());
  Micros t0 = h.env.now();
  ASSERT_TRUE(h.env.advanceUntil([&] {
    return h.nodes[1]->events.leftCount(gone) == 1 && h.nodes[2]->events.leftCount(gone) == 1;
  }, 5 * kSeconds, kMillis));
  EXPECT_GE(accepted, 1);
  EXPECT_LT(h.env.now() - t0, 50 * kMillis);
  EXPECT_EQ(h.nodes[1]->events.left[0].reason, LeaveReason::kLinkLost);
}

TEST(MeshCoreDyingListener, APeerThatKeepsAcceptingAndClosingIsNotRedialedInALoop) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  h.env.advance(2 * kSeconds);
  h.crashNode(*h.nodes[0]);
  MemoryTransport closer(h.net, "node0");
  int accepted = 0;
  h.net.setRefusing("node0", false);
  ASSERT_TRUE(closer.listen("node0", [&](std::unique_ptr<Link> link) {
    link.reset();
    ++accepted;
  }).isOk());
  h.env.advance(2 * kSeconds);
  // A few quick retries, then the usual growing backoff (100 ms, 200 ms, ...): no storm.
  EXPECT_LE(accepted, 12);
}

}  // namespace
}  // namespace meshslice
