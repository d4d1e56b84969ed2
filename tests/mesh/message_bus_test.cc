#include "mesh/message_bus.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::MeshHarness;

TEST(MessageBus, PublishReachesEveryPeerInOrderAndSaysWho) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  std::vector<std::vector<std::string>> got(3);
  std::vector<Subscription> subs;
  for (int i = 1; i < 3; ++i) {
    auto sub = h.nodes[i]->core->bus().subscribe("chat", [&, i](const BusMessageEvent& m) {
      EXPECT_EQ(m.from, h.nodes[0]->id());
      got[i].push_back(toString(m.payload));
    });
    ASSERT_TRUE(sub.isOk());
    subs.push_back(std::move(sub).value());
  }
  for (int k = 0; k < 100; ++k) {
    auto r = h.nodes[0]->core->bus().publish("chat", asBytes("m" + std::to_string(k)));
    ASSERT_TRUE(r.isOk());
    EXPECT_EQ(r->reached.size(), 2u);
    EXPECT_TRUE(r->failed.empty());
  }
  ASSERT_TRUE(h.env.advanceUntil([&] { return got[1].size() == 100 && got[2].size() == 100; }, kSeconds));
  for (int k = 0; k < 100; ++k) EXPECT_EQ(got[2][k], "m" + std::to_string(k));
}

TEST(MessageBus, SubscriptionEndsWhenDestroyed) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  int count = 0;
  {
    auto sub = h.nodes[1]->core->bus().subscribe("x", [&](const BusMessageEvent&) { ++count; });
    ASSERT_TRUE(sub.isOk());
    ASSERT_TRUE(h.nodes[0]->core->bus().publish("x", asBytes("1")).isOk());
    h.env.advance(10 * kMillis);
    EXPECT_EQ(count, 1);
  }
  ASSERT_TRUE(h.nodes[0]->core->bus().publish("x", asBytes("2")).isOk());
  h.env.advance(10 * kMillis);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(h.nodes[1]->core->bus().stats().unhandled, 1u);
}

TEST(MessageBus, ValidatesNamespacesAndReservesTheLibraryPrefix) {
  MeshHarness h;
  h.addFullMesh(1);
  auto& bus = h.nodes[0]->core->bus();
  EXPECT_FALSE(bus.subscribe("", [](const BusMessageEvent&) {}).isOk());
  EXPECT_FALSE(bus.subscribe("has space", [](const BusMessageEvent&) {}).isOk());
  EXPECT_FALSE(bus.subscribe(std::string(65, 'a'), [](const BusMessageEvent&) {}).isOk());
  EXPECT_FALSE(bus.subscribe("ms.sync", [](const BusMessageEvent&) {}).isOk());
  EXPECT_FALSE(bus.publish("MS.sync", asBytes("x")).isOk());
  EXPECT_TRUE(bus.subscribeReserved("ms.sync", [](const BusMessageEvent&) {}).isOk());
  EXPECT_TRUE(bus.subscribe("app.chat-1_x", [](const BusMessageEvent&) {}).isOk());
}

TEST(MessageBus, RequestGetsAReplyOrANoHandlerOrATimeout) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  auto serve = h.nodes[1]->core->bus().serve("echo", [](const BusMessageEvent& m, Responder r) {
    r.reply(asBytes("echo:" + toString(m.payload)));
  });
  ASSERT_TRUE(serve.isOk());
  auto silent = h.nodes[1]->core->bus().serve("silent", [](const BusMessageEvent&, Responder) {});
  std::optional<Result<Bytes>> a, b, c;
  auto& bus = h.nodes[0]->core->bus();
  DeviceId peer = h.nodes[1]->id();
  ASSERT_TRUE(bus.request(peer, "echo", asBytes("hi"), kSeconds, [&](Result<Bytes> r) { a = std::move(r); }).isOk());
  ASSERT_TRUE(bus.request(peer, "nobody", asBytes("hi"), kSeconds, [&](Result<Bytes> r) { b = std::move(r); }).isOk());
  ASSERT_TRUE(bus.request(peer, "silent", asBytes("hi"), kSeconds, [&](Result<Bytes> r) { c = std::move(r); }).isOk());
  ASSERT_TRUE(h.env.advanceUntil([&] { return a && b; }, 500 * kMillis));
  ASSERT_TRUE(a->isOk());
  EXPECT_EQ(toString(a->value()), "echo:hi");
  EXPECT_EQ(b->status().code(), Code::kNotFound);
  EXPECT_FALSE(c.has_value());
  h.env.advance(kSeconds);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->status().code(), Code::kTimeout);
}

TEST(MessageBus, SendToAnUnknownPeerFailsAtOnce) {
  MeshHarness h;
  h.addFullMesh(1);
  DeviceId stranger = test::makeDevice("x", 99).id;
  EXPECT_EQ(h.nodes[0]->core->bus().send(stranger, "chat", asBytes("x")).code(), Code::kNotFound);
}

TEST(MessageBus, PendingRequestsFailWhenThePeerLeaves) {
  MeshHarness h;
  h.addFullMesh(2);
  ASSERT_TRUE(h.allConnected());
  auto silent = h.nodes[1]->core->bus().serve("silent", [](const BusMessageEvent&, Responder) {});
  std::optional<Result<Bytes>> r;
  ASSERT_TRUE(h.nodes[0]->core->bus().request(h.nodes[1]->id(), "silent", asBytes("x"), 60 * kSeconds,
                                               [&](Result<Bytes> x) { r = std::move(x); }).isOk());
  h.env.advance(10 * kMillis);
  h.stopNode(*h.nodes[1]);
  ASSERT_TRUE(h.env.advanceUntil([&] { return r.has_value(); }, kSeconds));
  EXPECT_EQ(r->status().code(), Code::kClosed);
}

TEST(MessageBus, SendReachesOnlyItsPeerInOrderInterleavedWithPublishes) {
  MeshHarness h;
  h.addFullMesh(3);
  ASSERT_TRUE(h.allConnected());
  std::vector<std::string> got1, got2;
  auto s1 = h.nodes[1]->core->bus().subscribe("chat", [&](const BusMessageEvent& m) {
    EXPECT_EQ(m.from, h.nodes[0]->id());
    got1.push_back(toString(m.payload));
  });
  auto s2 = h.nodes[2]->core->bus().subscribe("chat", [&](const BusMessageEvent& m) { got2.push_back(toString(m.payload)); });
  ASSERT_TRUE(s1.isOk() && s2.isOk());
  auto& bus = h.nodes[0]->core->bus();
  std::vector<std::string> to1, to2;
  for (int k = 0; k < 200; ++k) {
    const std::string m = "m" + std::to_string(k);
    if (k % 3 == 0) {
      ASSERT_TRUE(bus.publish("chat", asBytes(m)).isOk());
      to1.push_back(m);
      to2.push_back(m);
    } else {
      ASSERT_TRUE(bus.send(h.nodes[1]->id(), "chat", asBytes(m)).isOk());
      to1.push_back(m);
    }
  }
  ASSERT_TRUE(h.env.advanceUntil([&] { return got1.size() == to1.size() && got2.size() == to2.size(); }, kSeconds));
  h.env.advance(100 * kMillis);
  EXPECT_EQ(got1, to1) << "sends and publishes to one peer arrive in the order they were made";
  EXPECT_EQ(got2, to2) << "a send reaches its peer only";
}

// A peer that stops reading fills its bounded queue: publish then lists it as failed (kBusy)
// while the others are still reached, and memory towards it stays bounded.
TEST(MessageBus, APeerThatStopsReadingIsListedAsBusyAndTheOthersAreReached) {
  MeshHarness h;
  MeshOptions o;
  o.liveness_timeout = 600 * kSeconds;  // time barely moves; no eviction either way
  h.addFullMesh(3, o);
  ASSERT_TRUE(h.allConnected());
  const DeviceId reader = h.nodes[1]->id(), stalled = h.nodes[2]->id();
  for (MemoryLink* l : h.net.links())
    if (l->isOpen() && l->localAddress().rfind(h.nodes[2]->address, 0) == 0) l->setReadPaused(true);
  std::vector<std::string> got1, got2;
  auto s1 = h.nodes[1]->core->bus().subscribe("bulk", [&](const BusMessageEvent& m) { got1.push_back(toString(m.payload.subspan(0, 8))); });
  auto s2 = h.nodes[2]->core->bus().subscribe("bulk", [&](const BusMessageEvent& m) { got2.push_back(toString(m.payload.subspan(0, 8))); });
  ASSERT_TRUE(s1.isOk() && s2.isOk());
  auto& bus = h.nodes[0]->core->bus();
  const std::string filler(256 * 1024, 'x');
  std::vector<std::string> sent, reached_stalled;
  std::optional<PublishResult> busy;
  size_t max_pending = 0;
  for (int k = 0; k < 200 && !busy; ++k) {  // 50 MiB at most; the queues hold ~8 MiB
    std::string tag = std::to_string(k);
    tag.insert(0, 8 - tag.size(), '0');  // 8 characters: the subscribers read the first 8 bytes
    auto r = bus.publish("bulk", asBytes(tag + filler));
    ASSERT_TRUE(r.isOk());
    sent.push_back(tag);
    ASSERT_NE(std::find(r->reached.begin(), r->reached.end(), reader), r->reached.end()) << "the reader is reached every time";
    if (std::find(r->reached.begin(), r->reached.end(), stalled) != r->reached.end()) reached_stalled.push_back(tag);
    if (!r->failed.empty()) busy = std::move(r).value();
    h.env.runPending();
    max_pending = std::max(max_pending, h.nodes[0]->core->pendingBytesTo(stalled));
  }
  ASSERT_TRUE(busy) << "the stalled peer's queue never filled";
  ASSERT_EQ(busy->failed.size(), 1u);
  EXPECT_EQ(busy->failed[0].first, stalled);
  EXPECT_EQ(busy->failed[0].second.code(), Code::kBusy);
  EXPECT_EQ(busy->reached, std::vector<DeviceId>{reader});
  EXPECT_LE(max_pending, o.channel.max_pending_bytes + MemoryLinkOptions{}.write_queue_limit + filler.size() + 4096);
  ASSERT_TRUE(h.env.advanceUntil([&] { return got1.size() == sent.size(); }, kSeconds));
  EXPECT_EQ(got1, sent);
  // Once it reads again it gets every message its queue took, in order.
  for (MemoryLink* l : h.net.links())
    if (l->isOpen() && l->localAddress().rfind(h.nodes[2]->address, 0) == 0) l->setReadPaused(false);
  ASSERT_TRUE(h.env.advanceUntil([&] { return got2.size() == reached_stalled.size(); }, 5 * kSeconds, kMillis))
      << got2.size() << " of " << reached_stalled.size() << "; connected " << h.nodes[0]->core->isConnected(stalled)
      << " left " << h.nodes[0]->events.left.size() << " sent " << sent.size();
  EXPECT_EQ(got2, reached_stalled);
}

}  // namespace
}  // namespace meshslice
