#include "transport/secure_channel.h"

#include <gtest/gtest.h>

#include "base/fake_env.h"
#include "tests/support/loop_helpers.h"
#include "tests/support/tamper_link.h"
#include "transport/memory_transport.h"
#include "transport/tcp_transport.h"

namespace meshslice {
namespace {

struct Endpoint : ChannelHandler {
  bool ready = false;
  std::vector<Bytes> messages;
  std::optional<Status> closed;
  void onChannelReady(SecureChannel&) override { ready = true; }
  void onChannelMessage(SecureChannel&, ByteView m) override { messages.emplace_back(m.begin(), m.end()); }
  void onChannelClosed(SecureChannel&, const Status& s) override { closed = s; }
};

Key32 keyOf(uint8_t b) {
  Key32 k;
  k.fill(b);
  return k;
}

// Two channels over the in-memory transport with a FakeEnv. Both links can be tampered:
// tamper_ sees what the server (responder) receives, ctamper_ what the client (initiator) does.
class ChannelPair {
 public:
  explicit ChannelPair(Key32 client_psk = keyOf(7), Key32 server_psk = keyOf(7),
                       SecureChannelOptions opts = {}) {
    a_keys = noise::generateKeyPair();
    b_keys = noise::generateKeyPair();
    server_t.listen("b", [&](std::unique_ptr<Link> l) { server_link = std::move(l); }).ignore();
    client_t.connect("b", [&](Result<std::unique_ptr<Link>> r) { client_link = std::move(r).value(); }).ignore();
    env.runPending();
    auto tamper = std::make_unique<test::TamperLink>(std::move(server_link));
    tamper_ = tamper.get();
    auto ctamper = std::make_unique<test::TamperLink>(std::move(client_link));
    ctamper_ = ctamper.get();
    client = std::make_unique<SecureChannel>(env, std::move(ctamper), true, a_keys, client_psk, &ca, opts);
    server = std::make_unique<SecureChannel>(env, std::move(tamper), false, b_keys, server_psk, &cb, opts);
  }
  void start() {
    client->start();
    server->start();
  }
  bool handshake() {
    start();
    return env.advanceUntil([&] { return ca.ready && cb.ready; }, kSeconds);
  }

  FakeEnv env;
  MemoryNetwork net{env};
  MemoryTransport client_t{net, "a"}, server_t{net, "b"};
  std::unique_ptr<Link> client_link, server_link;
  test::TamperLink* tamper_ = nullptr;   // server side: handshake messages 1 and 3, then data
  test::TamperLink* ctamper_ = nullptr;  // client side: handshake message 2, then data
  noise::KeyPair a_keys, b_keys;
  Endpoint ca, cb;
  std::unique_ptr<SecureChannel> client, server;
};

TEST(SecureChannel, HandshakeAuthenticatesBothStaticKeys) {
  ChannelPair p;
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.client->remoteStatic(), p.b_keys.pub);
  EXPECT_EQ(p.server->remoteStatic(), p.a_keys.pub);
  // e (32) + empty payload tag; e,ee,s,es; s,se,psk: 48, 96, 64 bytes.
  ASSERT_EQ(p.tamper_->sent().size(), 1u);
  EXPECT_EQ(p.tamper_->received().size(), 2u);
  EXPECT_EQ(p.tamper_->received()[0].size(), 48u);
  EXPECT_EQ(p.tamper_->sent()[0].size(), 96u);
  EXPECT_EQ(p.tamper_->received()[1].size(), 64u);
}

TEST(SecureChannel, CarriesMessagesOfEverySizeInOrder) {
  ChannelPair p;
  ASSERT_TRUE(p.handshake());
  std::vector<Bytes> sent;
  for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, kMaxFramePlaintext - 3, kMaxFramePlaintext,
                      size_t{200000}, kMaxChannelMessageSize}) {
    Bytes m(size);
    for (size_t i = 0; i < size; ++i) m[i] = static_cast<uint8_t>(i * 31 + size);
    ASSERT_TRUE(p.client->sendMessage(m).isOk()) << size;
    sent.push_back(m);
  }
  ASSERT_TRUE(p.env.advanceUntil([&] { return p.cb.messages.size() == sent.size(); }, kSeconds));
  EXPECT_EQ(p.cb.messages, sent);
  EXPECT_EQ(p.client->sendMessage(Bytes(kMaxChannelMessageSize + 1)).code(), Code::kTooLarge);
}

TEST(SecureChannel, BatchesSmallMessagesOfOneTurnIntoOneFrame) {
  ChannelPair p;
  ASSERT_TRUE(p.handshake());
  size_t frames_before = p.tamper_->received().size();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(p.client->sendMessage(Bytes(100, 1)).isOk());
  ASSERT_TRUE(p.env.advanceUntil([&] { return p.cb.messages.size() == 50; }, kSeconds));
  EXPECT_EQ(p.tamper_->received().size() - frames_before, 1u);
}

TEST(SecureChannel, RekeysOnBothSidesAtTheSameFrame) {
  SecureChannelOptions opts;
  opts.rekey_interval = 4;
  ChannelPair p(keyOf(7), keyOf(7), opts);
  ASSERT_TRUE(p.handshake());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(p.client->sendMessage(asBytes("m" + std::to_string(i))).isOk());
    p.env.runPending();  // one frame per message
  }
  ASSERT_TRUE(p.env.advanceUntil([&] { return p.cb.messages.size() == 20; }, kSeconds));
  EXPECT_EQ(p.client->stats().rekeys, 5u);
  EXPECT_EQ(p.server->stats().rekeys, 5u);
  EXPECT_FALSE(p.cb.closed.has_value());
}

TEST(SecureChannel, WrongMeshSecretFailsTheHandshake) {
  ChannelPair p(keyOf(7), keyOf(8));
  p.start();
  ASSERT_TRUE(p.env.advanceUntil([&] { return p.ca.closed && p.cb.closed; }, kSeconds));
  // XX: the initiator finishes its side (it sent the psk message) before the responder checks
  // it, so only the responder's verdict counts; the session layer waits for the peer's Hello.
  EXPECT_FALSE(p.cb.ready);
  EXPECT_EQ(p.cb.closed->code(), Code::kAuthFailed);
  EXPECT_EQ(p.server->failure(), ChannelFailure::kHandshakeRejected);
  EXPECT_EQ(p.client->failure(), ChannelFailure::kNone) << "the initiator was closed, it did not fail";
  EXPECT_TRUE(p.cb.messages.empty());
}

// Returns a Rewrite that flips bit `bit` (mod the frame's size) of the frame with this index.
test::TamperLink::Rewrite flipBitOf(size_t target, size_t bit) {
  return [target, bit](size_t index, ByteView f) {
    Bytes copy(f.begin(), f.end());
    if (index == target && !copy.empty()) copy[(bit / 8) % copy.size()] ^= static_cast<uint8_t>(1 << (bit % 8));
    return std::vector<Bytes>{copy};
  };
}

// Server-bound frames: 0 = handshake message 1, 1 = message 3, 2 = first transport frame.
TEST(SecureChannel, FlippedBitInAnyFrameToTheResponderClosesWithoutDelivery) {
  for (size_t target = 0; target < 3; ++target) {
    for (size_t bit : {size_t{0}, size_t{100}, size_t{300}, size_t{383}}) {
      ChannelPair p;
      p.tamper_->setIncoming(flipBitOf(target, bit));
      p.start();
      p.env.advanceUntil([&] { return p.ca.ready; }, kSeconds);
      if (p.ca.ready) p.client->sendMessage(asBytes("secret")).ignore();
      ASSERT_TRUE(p.env.advanceUntil([&] { return p.cb.closed.has_value(); }, 10 * kSeconds))
          << "frame " << target << " bit " << bit;
      EXPECT_TRUE(p.cb.messages.empty());
      EXPECT_EQ(p.cb.closed->code(), Code::kAuthFailed) << p.cb.closed->toString();
      EXPECT_EQ(p.server->failure(),
                target < 2 ? ChannelFailure::kHandshakeRejected : ChannelFailure::kFrameRejected);
    }
  }
}

// Client-bound frames: 0 = handshake message 2 (responder -> initiator), 1 = first transport
// frame from the server.
TEST(SecureChannel, FlippedBitInAnyFrameToTheInitiatorClosesWithoutDelivery) {
  for (size_t target = 0; target < 2; ++target) {
    for (size_t bit : {size_t{0}, size_t{255}, size_t{500}, size_t{767}}) {
      ChannelPair p;
      p.ctamper_->setIncoming(flipBitOf(target, bit));
      p.start();
      p.env.advanceUntil([&] { return p.cb.ready; }, kSeconds);
      if (p.cb.ready) p.server->sendMessage(asBytes("secret")).ignore();
      ASSERT_TRUE(p.env.advanceUntil([&] { return p.ca.closed.has_value(); }, 10 * kSeconds))
          << "frame " << target << " bit " << bit;
      EXPECT_TRUE(p.ca.messages.empty());
      EXPECT_EQ(p.ca.closed->code(), Code::kAuthFailed) << p.ca.closed->toString();
      EXPECT_EQ(p.client->failure(),
                target == 0 ? ChannelFailure::kHandshakeRejected : ChannelFailure::kFrameRejected);
      if (target == 0) {
        EXPECT_FALSE(p.ca.ready);
        EXPECT_FALSE(p.cb.ready) << "no message 3 after a bad message 2";
      }
    }
  }
}

// Later transport frames both ways, with traffic flowing in both directions first.
TEST(SecureChannel, FlippedBitInALaterTransportFrameEitherWayStopsDeliveryThere) {
  for (bool to_server : {true, false}) {
    ChannelPair p;
    // Frame index 5 in either direction: server-bound 0-1 are handshake, client-bound 0 is.
    (to_server ? p.tamper_ : p.ctamper_)->setIncoming(flipBitOf(to_server ? 5 : 4, 77));
    ASSERT_TRUE(p.handshake());
    for (int i = 0; i < 6; ++i) {
      p.client->sendMessage(asBytes("c" + std::to_string(i))).ignore();
      p.server->sendMessage(asBytes("s" + std::to_string(i))).ignore();
      p.env.runPending();  // one frame per message and direction
    }
    Endpoint& victim = to_server ? p.cb : p.ca;
    ASSERT_TRUE(p.env.advanceUntil([&] { return victim.closed.has_value(); }, kSeconds)) << to_server;
    EXPECT_EQ(victim.closed->code(), Code::kAuthFailed);
    EXPECT_EQ(victim.messages.size(), 3u) << "frames before the bad one were delivered, none after";
    EXPECT_EQ((to_server ? p.server : p.client)->failure(), ChannelFailure::kFrameRejected);
  }
}

// Every proper prefix of the real handshake messages 1, 2 and 3 is rejected by its receiver.
TEST(SecureChannel, EveryPrefixOfEachHandshakeMessageIsRejected) {
  const size_t sizes[] = {48, 96, 64};
  for (size_t msg = 0; msg < 3; ++msg) {
    for (size_t len = 0; len < sizes[msg]; ++len) {
      ChannelPair p;
      bool to_server = msg != 1;
      size_t index = msg == 2 ? 1 : 0;
      (to_server ? p.tamper_ : p.ctamper_)->setIncoming([&](size_t i, ByteView f) {
        Bytes copy(f.begin(), f.end());
        if (i == index) {
          EXPECT_EQ(copy.size(), sizes[msg]);
          copy.resize(len);
        }
        return std::vector<Bytes>{copy};
      });
      p.start();
      Endpoint& receiver = to_server ? p.cb : p.ca;
      ASSERT_TRUE(p.env.advanceUntil([&] { return receiver.closed.has_value(); }, kSeconds))
          << "message " << msg + 1 << " cut to " << len;
      EXPECT_EQ(receiver.closed->code(), Code::kAuthFailed) << receiver.closed->toString();
      EXPECT_EQ((to_server ? p.server : p.client)->failure(), ChannelFailure::kHandshakeRejected);
      EXPECT_FALSE(receiver.ready);
      EXPECT_TRUE(receiver.messages.empty());
    }
  }
}

TEST(SecureChannel, ReplayedAndReorderedFramesAreRejected) {
  for (bool reorder : {false, true}) {
    ChannelPair p;
    std::optional<Bytes> held;
    // Server-side frames 0 and 1 are handshake messages 1 and 3; transport frames follow.
    p.tamper_->setIncoming([&](size_t index, ByteView f) {
      Bytes copy(f.begin(), f.end());
      if (!reorder && index == 2) return std::vector<Bytes>{copy, copy};  // replay
      if (reorder && index == 2) {
        held = copy;
        return std::vector<Bytes>{};
      }
      if (reorder && index == 3) return std::vector<Bytes>{copy, *held};  // swap 2 and 3
      return std::vector<Bytes>{copy};
    });
    ASSERT_TRUE(p.handshake());
    for (int i = 0; i < 3; ++i) {
      // Once the server rejects a frame the link closes and later sends fail: that is fine.
      p.client->sendMessage(asBytes("m" + std::to_string(i))).ignore();
      p.env.runPending();  // one frame each
    }
    ASSERT_TRUE(p.env.advanceUntil([&] { return p.cb.closed.has_value(); }, kSeconds)) << reorder;
    EXPECT_EQ(p.cb.closed->code(), Code::kAuthFailed);
    EXPECT_EQ(p.cb.messages.size(), reorder ? 0u : 1u) << "nothing after the bad frame is delivered";
    EXPECT_EQ(p.server->failure(), ChannelFailure::kFrameRejected);
  }
}

TEST(SecureChannel, StalledHandshakeTimesOut) {
  ChannelPair p;
  p.tamper_->setIncoming([](size_t, ByteView) { return std::vector<Bytes>{}; });  // server hears nothing
  p.start();
  p.env.advance(5 * kSeconds - kMillis);
  EXPECT_FALSE(p.ca.closed.has_value());
  ASSERT_TRUE(p.env.advanceUntil([&] { return p.ca.closed && p.cb.closed; }, 10 * kSeconds));
  EXPECT_EQ(p.ca.closed->code(), Code::kTimeout);
  EXPECT_EQ(p.client->failure(), ChannelFailure::kHandshakeTimeout);
  EXPECT_FALSE(p.cb.ready);
}

TEST(SecureChannel, GarbageAndOversizedHandshakeFramesAreRejected) {
  for (size_t size : {size_t{0}, size_t{5}, size_t{48}, kMaxHandshakeFrame + 1}) {
    ChannelPair p;
    p.tamper_->setIncoming([&](size_t, ByteView) {
      Bytes junk(size);
      for (size_t i = 0; i < size; ++i) junk[i] = static_cast<uint8_t>(i * 7 + 3);
      return std::vector<Bytes>{junk};
    });
    p.start();
    ASSERT_TRUE(p.env.advanceUntil([&] { return p.cb.closed.has_value(); }, kSeconds)) << size;
    EXPECT_FALSE(p.cb.ready);
    EXPECT_EQ(p.server->failure(), size > kMaxHandshakeFrame ? ChannelFailure::kHandshakeOversized
                                                             : ChannelFailure::kHandshakeRejected);
  }
}

// On the real loop the messages one task queues are encrypted and handed to the link at the
// end of that same loop iteration, together in one frame: no further wake-up of the loop.
TEST(SecureChannel, FlushesAtTheEndOfTheSameLoopTurn) {
  EventLoop loop;
  {
    UvEnv env(loop);
    MemoryNetwork net(env);
    MemoryTransport ta(net, "a"), tb(net, "b");
    std::unique_ptr<Link> la, lb;
    ASSERT_TRUE(tb.listen("b", [&](std::unique_ptr<Link> l) { lb = std::move(l); }).isOk());
    ASSERT_TRUE(ta.connect("b", [&](Result<std::unique_ptr<Link>> r) { la = std::move(r).value(); }).isOk());
    ASSERT_TRUE(test::runUntil(loop, [&] { return la && lb; }));
    auto tap = std::make_unique<test::TamperLink>(std::move(la));
    test::TamperLink* sent = tap.get();
    Endpoint ca, cb;
    auto a = noise::generateKeyPair(), b = noise::generateKeyPair();
    SecureChannel client(env, std::move(tap), true, a, keyOf(1), &ca);
    SecureChannel server(env, std::move(lb), false, b, keyOf(1), &cb);
    client.start();
    server.start();
    ASSERT_TRUE(test::runUntil(loop, [&] { return ca.ready && cb.ready; }));
    const size_t before = sent->sent().size();
    size_t during_task = 0;
    ASSERT_TRUE(loop.post([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(client.sendMessage(Bytes(100, static_cast<uint8_t>(i))).isOk());
      during_task = sent->sent().size();
    }));
    uv_run(loop.uv(), UV_RUN_ONCE);
    EXPECT_EQ(during_task, before) << "nothing is encrypted while the turn still queues messages";
    EXPECT_EQ(sent->sent().size(), before + 1) << "one frame, written in the same loop iteration";
    ASSERT_TRUE(test::runUntil(loop, [&] { return cb.messages.size() == 50; }));
    EXPECT_EQ(cb.messages[49], Bytes(100, 49));
    client.close(Status(Code::kClosed, "done"));
    ASSERT_TRUE(test::runUntil(loop, [&] { return ca.closed && cb.closed; }));
  }
  test::expectCleanClose(loop);
}

TEST(SecureChannel, WorksOverRealTcp) {
  EventLoop loop;
  {
    UvEnv env(loop);
    TcpTransport t(loop);
    std::unique_ptr<Link> server_link, client_link;
    auto addr = t.listen("127.0.0.1:0", [&](std::unique_ptr<Link> l) { server_link = std::move(l); });
    ASSERT_TRUE(addr.isOk());
    ASSERT_TRUE(t.connect(addr.value(), [&](Result<std::unique_ptr<Link>> r) { client_link = std::move(r).value(); }).isOk());
    ASSERT_TRUE(test::runUntil(loop, [&] { return server_link && client_link; }));
    Endpoint ca, cb;
    auto a = noise::generateKeyPair(), b = noise::generateKeyPair();
    SecureChannel client(env, std::move(client_link), true, a, keyOf(1), &ca);
    SecureChannel server(env, std::move(server_link), false, b, keyOf(1), &cb);
    client.start();
    server.start();
    ASSERT_TRUE(test::runUntil(loop, [&] { return ca.ready && cb.ready; }));
    Bytes big(300000, 0x42);
    ASSERT_TRUE(client.sendMessage(big).isOk());
    ASSERT_TRUE(server.sendMessage(asBytes("pong")).isOk());
    ASSERT_TRUE(test::runUntil(loop, [&] { return cb.messages.size() == 1 && ca.messages.size() == 1; }));
    EXPECT_EQ(cb.messages[0], big);
    client.close(Status(Code::kClosed, "done"));
    ASSERT_TRUE(test::runUntil(loop, [&] { return ca.closed && cb.closed; }));
  }
  test::expectCleanClose(loop);
}

}  // namespace
}  // namespace meshslice
