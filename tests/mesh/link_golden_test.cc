// Golden bytes of a whole link start-up with fixed keys: the three Noise handshake frames and
// the first encrypted frame (the initiator's Hello, capabilities bus, rpc, sync). docs/PROTOCOL.md §11 prints the same hex; a
// second implementation that reproduces these bytes interoperates with us.
#include <gtest/gtest.h>

#include "base/fake_env.h"
#include "mesh/envelope.h"
#include "mesh/identity.h"
#include "mesh/mesh_secret.h"
#include "mesh/peer_session.h"
#include "tests/support/tamper_link.h"
#include "transport/memory_transport.h"
#include "transport/secure_channel.h"

namespace meshslice {
namespace {

Key32 filled(uint8_t start) {
  Key32 k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(start + i);
  return k;
}

struct Sink : ChannelHandler {
  bool ready = false;
  std::vector<Bytes> messages;
  void onChannelReady(SecureChannel&) override { ready = true; }
  void onChannelMessage(SecureChannel&, ByteView m) override { messages.emplace_back(m.begin(), m.end()); }
  void onChannelClosed(SecureChannel&, const Status&) override {}
};

// The inputs, as docs/PROTOCOL.md lists them.
struct GoldenRun {
  Identity initiator = Identity::fromPrivateKey(filled(0x00), "alpha");
  Identity responder = Identity::fromPrivateKey(filled(0x20), "beta");
  noise::KeyPair init_e = noise::keyPairFromPrivate(filled(0x40));
  noise::KeyPair resp_e = noise::keyPairFromPrivate(filled(0x60));
  MeshSecret secret = MeshSecret::fromBytes(filled(0x80));

  std::vector<Bytes> wire;  // frame bodies in the order they crossed the wire
  Bytes hello_plain;

  void run() {
    FakeEnv env;
    MemoryNetwork net(env);
    MemoryTransport ta(net, "a"), tb(net, "b");
    std::unique_ptr<Link> la, lb;
    ASSERT_TRUE(tb.listen("b", [&](std::unique_ptr<Link> l) { lb = std::move(l); }).isOk());
    ASSERT_TRUE(ta.connect("b", [&](Result<std::unique_ptr<Link>> r) { la = std::move(r).value(); }).isOk());
    env.runPending();
    auto tap = std::make_unique<test::TamperLink>(std::move(lb));
    test::TamperLink* t = tap.get();
    Sink sa, sb;
    SecureChannelOptions oa, ob;
    oa.fixed_ephemeral_for_tests = init_e;
    ob.fixed_ephemeral_for_tests = resp_e;
    noise::KeyPair ka, kb;
    ka.priv = initiator.privateKey();
    ka.pub = initiator.publicKey();
    kb.priv = responder.privateKey();
    kb.pub = responder.publicKey();
    Key32 psk = secret.psk();
    SecureChannel a(env, std::move(la), true, ka, psk, &sa, oa);
    SecureChannel b(env, std::move(tap), false, kb, psk, &sb, ob);
    a.start();
    b.start();
    ASSERT_TRUE(env.advanceUntil([&] { return sa.ready && sb.ready; }, kSeconds));
    // The Hello as a node builds it (PeerSession sends makeHello of its LocalHello), pinned
    // to protocol 1..1 and the first three capabilities: the documented vector stays fixed
    // whatever version and capabilities a build has.
    LocalHello local{initiator.deviceId(), "alpha", 7000, {"bus", "rpc", "sync"}};
    Hello hello = makeHello(local);
    hello.proto_max = 1;
    hello_plain = encodeEnvelope(hello);
    ASSERT_TRUE(a.sendMessage(hello_plain).isOk());
    ASSERT_TRUE(env.advanceUntil([&] { return sb.messages.size() == 1; }, kSeconds));
    EXPECT_EQ(sb.messages[0], hello_plain);
    const auto& in = t->received();  // initiator -> responder
    const auto& out = t->sent();     // responder -> initiator
    ASSERT_EQ(in.size(), 3u);
    ASSERT_EQ(out.size(), 1u);
    wire = {in[0], out[0], in[1], in[2]};
  }
};

TEST(LinkGolden, FixedKeyStartUpProducesTheDocumentedBytes) {
  GoldenRun g;
  g.run();
  ASSERT_EQ(g.wire.size(), 4u);
  EXPECT_EQ(toHex(g.hello_plain), 
            "97010101c414d67758f1cb3365d5df606ddfff2ad708f71de5c1a5616c70686193a3627573a3727063a473796e63cd1b58");
  EXPECT_EQ(toHex(g.wire[0]), 
            "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a2953f789018867708f6c5e89eeeb8328");
  EXPECT_EQ(toHex(g.wire[1]), 
            "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f61815f339d80cb45e9b4b5aaad89e9b5ed8cf90eba35d7e6998283202ac8a3c8f1d2567335366d0c4fadd9ad0b50bd4c9bff8f26490278f37123980edc49d8f2");
  EXPECT_EQ(toHex(g.wire[2]), 
            "e26537e0c39ac12c57012c5a678b82e8ea355c45702d7b6c5d0536bf3bca4376c4d3c0871009cc2081b77db9e5b4bd39fc0509f5629a212614e157de1b16f5ce");
  EXPECT_EQ(toHex(g.wire[3]), 
            "98747052e5f37a6825d3be7417660d7a22e4cd71fdb2007a618255f21c79bcc7924f48ce169dd19fc591661d67211dd78e03e2e9827b17d578c2f6fb3361af2bffe835ef");
}

}  // namespace
}  // namespace meshslice
