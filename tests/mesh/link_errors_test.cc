// Hostile and broken peers against one MeshCore (docs/PROTOCOL.md §4 "Close reasons"): for every
// case the node closes the link with the documented Status code, logs it, counts it under its
// own reason in MeshStats::link_errors (and in protocol_errors / handshakes_failed as
// documented), and a peer that never sent a valid Hello never becomes a PeerJoined.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <numeric>
#include <set>

#include "base/log.h"
#include "mesh/envelope.h"
#include "mesh/link_error.h"
#include "tests/support/mesh_harness.h"
#include "tests/support/raw_peer.h"

namespace meshslice {
namespace {

using test::MeshHarness;
using test::RawPeer;

// Collects log lines of the "mesh" component for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : saved_level_(logLevel()) {
    setLogLevel(LogLevel::kInfo);  // close reasons are logged at info
    setLogSink([this](LogLevel, std::string_view component, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (component == "mesh") lines_.emplace_back(message);
    });
  }
  ~LogCapture() {
    setLogSink(nullptr);
    setLogLevel(saved_level_);
  }
  bool contains(const std::string& a, const std::string& b) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& l : lines_)
      if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
    return false;
  }

 private:
  LogLevel saved_level_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

Hello helloOf(const RawPeer& p) {
  Hello h;
  h.device_id = DeviceId::fromPublicKey(p.keys().pub);
  h.name = "rogue";
  return h;
}

Bytes encoded(const Envelope& e) { return encodeEnvelope(e); }

struct Case {
  const char* name;
  LinkError expect;
  // Whether a valid Hello went first (then the peer joined once and the handshake counted).
  bool established = false;
  std::function<void(RawPeer&)> attack;
  bool wrong_psk = false;
  bool allow_list = false;
};

std::vector<Case> cases() {
  auto flip = [](Bytes& b, size_t at) { b[at % b.size()] ^= 0x10; };
  std::vector<Case> c;
  c.push_back({"wrong mesh secret", LinkError::kHandshakeRejected, false, [](RawPeer& p) { p.handshake(); }});
  c.back().wrong_psk = true;
  c.push_back({"flipped bit in message 1", LinkError::kHandshakeRejected, false, [flip](RawPeer& p) {
                 Bytes m1 = p.nextHandshakeMessage();
                 flip(m1, 40);
                 p.send(m1);
               }});
  c.push_back({"flipped bit in message 3", LinkError::kHandshakeRejected, false,
               [flip](RawPeer& p) { p.handshake([&flip](Bytes& m3) { flip(m3, 5); }); }});
  for (size_t len : {size_t{0}, size_t{31}, size_t{47}}) {
    c.push_back({"truncated message 1", LinkError::kHandshakeRejected, false, [len](RawPeer& p) {
                   Bytes m1 = p.nextHandshakeMessage();
                   m1.resize(len);
                   p.send(m1);
                 }});
  }
  c.push_back({"truncated message 3", LinkError::kHandshakeRejected, false,
               [](RawPeer& p) { p.handshake([](Bytes& m3) { m3.resize(63); }); }});
  c.push_back({"oversized handshake frame", LinkError::kHandshakeOversized, false,
               [](RawPeer& p) { p.send(Bytes(kMaxHandshakeFrame + 1, 0x33)); }});
  c.push_back({"garbage", LinkError::kHandshakeRejected, false, [](RawPeer& p) {
                 Bytes junk(48);
                 for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 37 + 11);
                 p.send(junk);
               }});
  c.push_back({"stalled handshake", LinkError::kHandshakeTimeout, false, [](RawPeer&) {}});
  c.push_back({"flipped bit in a transport frame", LinkError::kFrameRejected, false, [flip](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 Bytes f = p.sealMessage(encoded(helloOf(p)));
                 flip(f, 20);
                 p.send(f);
               }});
  c.push_back({"replayed transport frame", LinkError::kFrameRejected, true, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 Bytes f = p.sealMessage(encoded(helloOf(p)));
                 p.send(f);
                 p.send(f);
               }});
  c.push_back({"reordered transport frames", LinkError::kFrameRejected, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 Bytes f0 = p.sealMessage(encoded(helloOf(p)));
                 Bytes f1 = p.sealMessage(encoded(Heartbeat{1}));
                 p.send(f1);
                 p.send(f0);
               }});
  c.push_back({"reserved record flags", LinkError::kRecordMalformed, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 p.send(p.seal(RawPeer::record(encoded(helloOf(p)), 0x03)));
               }});
  c.push_back({"message over the size limit", LinkError::kMessageTooLarge, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 const Bytes piece(kMaxRecordBody, 0x5a);
                 for (size_t sent = 0; sent <= kMaxChannelMessageSize; sent += piece.size())
                   p.send(p.seal(RawPeer::record(piece, 0)));  // no FIN: one growing message
               }});
  c.push_back({"envelope that does not decode", LinkError::kBadEnvelope, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 p.send(p.sealMessage(asBytes("not msgpack at all")));
               }});
  c.push_back({"first message not a Hello", LinkError::kHelloMissing, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 p.send(p.sealMessage(encoded(Heartbeat{7})));
               }});
  c.push_back({"second Hello", LinkError::kHelloRepeated, true, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 p.send(p.sealMessage(encoded(helloOf(p))));
                 p.send(p.sealMessage(encoded(helloOf(p))));
               }});
  c.push_back({"Hello claiming another device", LinkError::kHelloIdMismatch, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 Hello h = helloOf(p);
                 h.device_id = DeviceId::fromPublicKey(noise::generateKeyPair().pub);
                 p.send(p.sealMessage(encoded(h)));
               }});
  c.push_back({"disjoint protocol versions", LinkError::kIncompatible, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 Hello h = helloOf(p);
                 h.proto_min = kProtocolVersion + 1;
                 h.proto_max = kProtocolVersion + 5;
                 p.send(p.sealMessage(encoded(h)));
               }});
  c.push_back({"device not on the allow-list", LinkError::kNotAllowed, false, [](RawPeer& p) {
                 ASSERT_TRUE(p.handshake());
                 p.send(p.sealMessage(encoded(helloOf(p))));
               }});
  c.back().allow_list = true;
  return c;
}

TEST(LinkErrors, EveryHostileCaseClosesTheLinkWithItsDocumentedReasonAndCountsIt) {
  for (const Case& tc : cases()) {
    SCOPED_TRACE(tc.name);
    LogCapture logs;
    MeshHarness h;
    MeshOptions o;
    if (tc.allow_list) {
      o.use_allow_list = true;
      o.allow_list.insert(test::makeDevice("someone else", 0x77).id);
    }
    test::TestNode& node = h.addNode(o);
    Key32 psk = h.psk;
    if (tc.wrong_psk) psk.fill(0x13);
    RawPeer p(h.env, h.net, "rogue", psk);
    ASSERT_TRUE(p.connect(node.address));
    tc.attack(p);
    ASSERT_TRUE(p.waitClosed()) << "the node must close the link";
    h.env.runPending();

    const MeshStats& st = node.core->stats();
    EXPECT_EQ(st.linkErrors(tc.expect), 1u) << linkErrorName(tc.expect);
    EXPECT_EQ(std::accumulate(st.link_errors.begin(), st.link_errors.end(), uint64_t{0}), 1u)
        << "exactly one reason counted";
    EXPECT_EQ(st.protocol_errors, isProtocolViolation(tc.expect) ? 1u : 0u);
    EXPECT_EQ(st.handshakes_failed, tc.established || tc.allow_list ? 0u : 1u);
    EXPECT_EQ(node.events.joined.size(), tc.established ? 1u : 0u) << "no PeerJoined without a valid Hello";
    EXPECT_FALSE(node.core->isConnected(DeviceId::fromPublicKey(p.keys().pub)));
    // The log names the reason and the Status code the link was closed with.
    EXPECT_TRUE(logs.contains(linkErrorName(tc.expect), std::string(codeName(linkErrorCode(tc.expect))) + ":"))
        << linkErrorName(tc.expect) << " / " << codeName(linkErrorCode(tc.expect));
  }
}

TEST(LinkErrors, EachReasonHasOneDocumentedCodeAndName) {
  EXPECT_EQ(linkErrorCode(LinkError::kHelloMissing), Code::kMalformed);
  EXPECT_EQ(linkErrorCode(LinkError::kHelloRepeated), Code::kMalformed);
  EXPECT_EQ(linkErrorCode(LinkError::kHelloIdMismatch), Code::kAuthFailed);
  EXPECT_EQ(linkErrorCode(LinkError::kIncompatible), Code::kIncompatible);
  EXPECT_EQ(linkErrorCode(LinkError::kHandshakeRejected), Code::kAuthFailed);
  EXPECT_EQ(linkErrorCode(LinkError::kHandshakeTimeout), Code::kTimeout);
  std::set<std::string> names;
  for (size_t i = 0; i < kLinkErrorCount; ++i) names.insert(linkErrorName(static_cast<LinkError>(i)));
  EXPECT_EQ(names.size(), kLinkErrorCount) << "names are distinct";
  EXPECT_EQ(names.count("?"), 0u);
}

TEST(LinkErrors, ValidRawPeerJoinsAndSeesTheNodesCapabilities) {
  // The control case for the table above: the same peer, behaving, is accepted.
  MeshHarness h;
  test::TestNode& node = h.addNode();
  RawPeer p(h.env, h.net, "honest", h.psk);
  ASSERT_TRUE(p.connect(node.address));
  ASSERT_TRUE(p.handshake());
  Hello mine = helloOf(p);
  mine.capabilities = {"bus", "x-future-feature"};
  p.send(p.sealMessage(encoded(mine)));
  ASSERT_TRUE(h.env.advanceUntil([&] { return node.events.joined.size() == 1; }, kSeconds));
  EXPECT_EQ(node.events.joined[0].peer.capabilities, mine.capabilities) << "unknown names are kept";
  // The node's Hello to us carries this build's capabilities.
  auto frames = p.openReceived();
  ASSERT_FALSE(frames.empty());
  ASSERT_GE(frames[0].size(), kRecordHeaderSize);
  auto env = decodeEnvelope(ByteView(frames[0]).subspan(kRecordHeaderSize));
  ASSERT_TRUE(env.isOk()) << env.status().toString();
  auto* hello = std::get_if<Hello>(&env.value());
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->capabilities, (std::vector<std::string>{std::begin(kBuildCapabilities), std::end(kBuildCapabilities)}));
  EXPECT_EQ(hello->device_id, node.id());
  const MeshStats& st = node.core->stats();
  EXPECT_EQ(std::accumulate(st.link_errors.begin(), st.link_errors.end(), uint64_t{0}), 0u);
  EXPECT_EQ(st.handshakes_completed, 1u);
}

}  // namespace
}  // namespace meshslice
