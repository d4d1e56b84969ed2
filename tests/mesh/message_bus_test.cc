#include "mesh/message_bus.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace meshslice
