#include "mesh/peer_rate_limit.h"

#include <gtest/gtest.h>

#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::MeshHarness;

PeerRateLimitOptions smallLimit() {
  PeerRateLimitOptions o;
  o.messages_per_second = 100;
  o.message_burst = 200;
  o.bytes_per_second = 10000;
  o.byte_burst = 20000;
  o.disconnect_after_drops = 1000;
  o.flood_window = 10 * kSeconds;
  return o;
}

TEST(TokenBucket, StartsFullRefillsAtItsRateAndNeverPassesItsBurst) {
  TokenBucket b(10, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(0, 1));
  EXPECT_FALSE(b.take(0, 1));
  EXPECT_FALSE(b.take(99 * kMillis, 1));  // 0.99 tokens
  EXPECT_TRUE(b.take(100 * kMillis, 1));
  EXPECT_TRUE(b.take(100 * kSeconds, 5));  // capped at the burst, not 1000 tokens
  EXPECT_FALSE(b.take(100 * kSeconds, 1));
}

TEST(TokenBucket, ATimeGoingBackwardsAddsNothing) {
  TokenBucket b(1000, 1);
  EXPECT_TRUE(b.take(5 * kSeconds, 1));
  EXPECT_FALSE(b.take(1 * kSeconds, 1));
}

TEST(PeerRateLimit, AcceptsTheBurstThenDropsTheExcessAndCountsIt) {
  PeerRateLimit limit(smallLimit());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(limit.onMessage(0, 10), PeerRateLimit::Verdict::kAccept);
  EXPECT_EQ(limit.onMessage(0, 10), PeerRateLimit::Verdict::kDrop);
  EXPECT_EQ(limit.dropped(), 1u);
  // 100 messages per second come back.
  EXPECT_EQ(limit.onMessage(10 * kMillis, 10), PeerRateLimit::Verdict::kAccept);
  EXPECT_EQ(limit.onMessage(10 * kMillis, 10), PeerRateLimit::Verdict::kDrop);
}

TEST(PeerRateLimit, LimitsBytesIndependentlyOfMessages) {
  PeerRateLimit limit(smallLimit());
  EXPECT_EQ(limit.onMessage(0, 15000), PeerRateLimit::Verdict::kAccept);
  EXPECT_EQ(limit.onMessage(0, 6000), PeerRateLimit::Verdict::kDrop);
  EXPECT_EQ(limit.onMessage(0, 5000), PeerRateLimit::Verdict::kAccept);
  EXPECT_EQ(limit.onMessage(100 * kMillis, 1000), PeerRateLimit::Verdict::kAccept);
}

TEST(PeerRateLimit, DisconnectsAPeerThatKeepsFloodingWithinTheWindow) {
  PeerRateLimit limit(smallLimit());
  for (int i = 0; i < 200; ++i) limit.onMessage(0, 1);
  for (int i = 0; i < 999; ++i) ASSERT_EQ(limit.onMessage(0, 1), PeerRateLimit::Verdict::kDrop) << i;
  EXPECT_EQ(limit.onMessage(0, 1), PeerRateLimit::Verdict::kDisconnect);
}

TEST(PeerRateLimit, DropsSpreadOverWindowsNeverDisconnect) {
  PeerRateLimit limit(smallLimit());
  // 600 drops per 11 s: 3000 in all, but never 1000 within one 10 s window.
  Micros now = 0;
  for (int round = 0; round < 5; ++round, now += 11 * kSeconds) {
    int dropped = 0;
    for (int i = 0; i < 800; ++i) {
      auto v = limit.onMessage(now, 1);
      ASSERT_NE(v, PeerRateLimit::Verdict::kDisconnect) << "round " << round;
      dropped += v == PeerRateLimit::Verdict::kDrop;
    }
    EXPECT_EQ(dropped, 600);
  }
  EXPECT_EQ(limit.dropped(), 3000u);
}

TEST(PeerRateLimit, DisabledAcceptsEverything) {
  PeerRateLimitOptions o = smallLimit();
  o.enabled = false;
  PeerRateLimit limit(o);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(limit.onMessage(0, 1000), PeerRateLimit::Verdict::kAccept);
}

// The defaults must never cut what an honest peer does at full speed (docs/PERFORMANCE.md:
// ~200,000 1 KiB slice updates/s, ~820 MB/s of 64 KiB messages), yet still stop a peer that
// sends faster than any honest one can.
TEST(PeerRateLimit, DefaultsPassHonestPeakRatesAndStopFasterFloods) {
  PeerRateLimit limit{PeerRateLimitOptions{}};
  Micros now = 0;
  for (int i = 0; i < 5 * 250000; ++i, now += 4) {  // 250,000 x 1 KiB per second for 5 s
    ASSERT_EQ(limit.onMessage(now, 1024), PeerRateLimit::Verdict::kAccept) << i;
  }
  for (int i = 0; i < 3 * 15000; ++i, now += 66) {  // ~990 MB/s of 64 KiB messages for 3 s
    ASSERT_EQ(limit.onMessage(now, 64 * 1024), PeerRateLimit::Verdict::kAccept) << i;
  }
  // 1,000,000 small envelopes per second: the excess is dropped, then the peer is cut off.
  bool disconnected = false;
  for (int i = 0; i < 10 * 1000000 && !disconnected; ++i, now += 1) {
    disconnected = limit.onMessage(now, 16) == PeerRateLimit::Verdict::kDisconnect;
  }
  EXPECT_TRUE(disconnected);
  EXPECT_GE(limit.dropped(), PeerRateLimitOptions{}.disconnect_after_drops);
}

struct FloodFixture {
  MeshHarness h;
  std::vector<int> received = std::vector<int>(3, 0);
  std::vector<Subscription> subs;
  explicit FloodFixture(PeerRateLimitOptions limit) {
    MeshOptions o;
    o.rate_limit = limit;
    h.addFullMesh(3, o);
    EXPECT_TRUE(h.allConnected());
    for (int i = 0; i < 3; ++i) {
      auto sub = h.nodes[i]->core->bus().subscribe("flood", [this, i](const BusMessageEvent&) { ++received[i]; });
      EXPECT_TRUE(sub.isOk());
      subs.push_back(std::move(sub).value());
    }
  }
  // Node `from` sends `count` one-byte messages to node `to`, in batches that fit its queue.
  void send(int from, int to, int count) {
    const uint8_t byte = 1;
    for (int i = 0; i < count; ++i) {
      Status st = h.nodes[from]->core->bus().send(h.nodes[to]->id(), "flood", ByteView(&byte, 1));
      if (st.code() == Code::kBusy || i % 500 == 499) h.env.runPending();
      if (st.code() == Code::kClosed || st.code() == Code::kNotFound) return;
    }
    h.env.runPending();
  }
};

TEST(MeshCoreRateLimit, AFloodingPeerIsDroppedCountedAndTheOthersAreUnaffected) {
  PeerRateLimitOptions limit = smallLimit();
  limit.disconnect_after_drops = 1'000'000;  // only drops here
  FloodFixture f(limit);
  f.send(1, 0, 1000);  // all at the same fake instant
  EXPECT_EQ(f.received[0], 200) << "the burst passes, the rest is dropped";
  EXPECT_EQ(f.h.nodes[0]->core->stats().messages_rate_limited, 800u);
  f.send(2, 0, 50);  // another peer has its own bucket
  EXPECT_EQ(f.received[0], 250);
  EXPECT_TRUE(f.h.nodes[0]->core->isConnected(f.h.nodes[1]->id()));
  f.h.env.advance(1 * kSeconds);  // the flooder's bucket refills at its rate
  f.send(1, 0, 150);
  EXPECT_EQ(f.received[0], 350);
}

TEST(MeshCoreRateLimit, APeerThatKeepsFloodingIsDisconnectedWithAReason) {
  FloodFixture f(smallLimit());
  f.send(1, 0, 5000);
  EXPECT_EQ(f.h.nodes[0]->core->stats().peers_disconnected_flooding, 1u);
  EXPECT_EQ(f.h.nodes[0]->core->stats().messages_rate_limited, 1000u);
  EXPECT_LE(f.received[0], 200);
  // The flooder's link is gone; the quiet peer's link is not.
  EXPECT_TRUE(f.h.nodes[0]->core->isConnected(f.h.nodes[2]->id()));
  f.send(2, 0, 10);
  EXPECT_EQ(f.received[0], 210);
}

TEST(MeshCoreRateLimit, DefaultLimitsLetALegitimateBurstThrough) {
  FloodFixture f(PeerRateLimitOptions{});
  f.send(1, 0, 5000);
  EXPECT_EQ(f.received[0], 5000);
  EXPECT_EQ(f.h.nodes[0]->core->stats().messages_rate_limited, 0u);
}

}  // namespace
}  // namespace meshslice
