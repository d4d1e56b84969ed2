// Unit tests of the generic Noise layer (spec rev. 34 sections 5.1-5.3): CipherState nonce and
// rekey rules, SymmetricState, and HandshakeState misuse and hostile input. Every misuse must
// come back as an error Status; nothing may crash (this suite also runs under ASan/UBSan).
#include <gtest/gtest.h>
#include <sodium.h>

#include "transport/noise_cipher_state.h"
#include "transport/noise_handshake_state.h"
#include "transport/noise_symmetric_state.h"

namespace meshslice::noise {
namespace {

CipherKey keyOf(uint8_t b) {
  CipherKey k;
  k.fill(b);
  return k;
}

CipherState keyed(uint8_t b) {
  CipherState c;
  c.initializeKey(keyOf(b));
  return c;
}

// libsodium directly, with the Noise nonce layout: an independent check of CipherState.
Bytes sodiumEncrypt(const CipherKey& k, uint64_t n, ByteView ad, ByteView pt) {
  uint8_t nonce[12] = {};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  Bytes out(pt.size() + kTagLen);
  unsigned long long len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &len, pt.data(), pt.size(), ad.data(), ad.size(),
                                            nullptr, nonce, k.data());
  return out;
}

TEST(CipherState, WithoutAKeyPassesBytesThrough) {
  CipherState c;
  EXPECT_FALSE(c.hasKey());
  auto out = c.encryptWithAd(asBytes("ad"), asBytes("plain"));
  ASSERT_TRUE(out.isOk());
  EXPECT_EQ(toString(out.value()), "plain");
  EXPECT_EQ(c.nonce(), 0u) << "no key: no nonce use";
  c.rekey();  // no-op without a key
  EXPECT_FALSE(c.hasKey());
}

TEST(CipherState, EncryptsWithTheNoiseNonceLayoutAndCountsNonces) {
  CipherState a = keyed(1);
  for (uint64_t n = 0; n < 3; ++n) {
    Bytes pt = toBytes("message " + std::to_string(n));
    auto ct = a.encryptWithAd(asBytes("ad"), pt);
    ASSERT_TRUE(ct.isOk());
    EXPECT_EQ(ct.value(), sodiumEncrypt(keyOf(1), n, asBytes("ad"), pt));
    EXPECT_EQ(a.nonce(), n + 1);
  }
}

TEST(CipherState, DecryptChecksKeyAdNonceAndTagWithoutAdvancing) {
  CipherState send = keyed(1);
  CipherState recv = keyed(1);
  CipherState wrong_key = keyed(2);
  auto ct = send.encryptWithAd(asBytes("ad"), asBytes("hello"));
  ASSERT_TRUE(ct.isOk());

  EXPECT_EQ(wrong_key.decryptWithAd(asBytes("ad"), ct.value()).status().code(), Code::kAuthFailed);
  EXPECT_EQ(recv.decryptWithAd(asBytes("other ad"), ct.value()).status().code(), Code::kAuthFailed);
  EXPECT_EQ(recv.decryptWithAd({}, ct.value()).status().code(), Code::kAuthFailed);
  Bytes flipped = ct.value();
  flipped.back() ^= 0x80;  // in the tag
  EXPECT_EQ(recv.decryptWithAd(asBytes("ad"), flipped).status().code(), Code::kAuthFailed);
  flipped = ct.value();
  flipped[0] ^= 0x01;  // in the ciphertext body
  EXPECT_EQ(recv.decryptWithAd(asBytes("ad"), flipped).status().code(), Code::kAuthFailed);
  EXPECT_EQ(recv.decryptWithAd(asBytes("ad"), ByteView(ct.value()).first(kTagLen - 1)).status().code(),
            Code::kMalformed);
  EXPECT_EQ(recv.nonce(), 0u) << "failed decryptions never advance the nonce";

  auto pt = recv.decryptWithAd(asBytes("ad"), ct.value());
  ASSERT_TRUE(pt.isOk());
  EXPECT_EQ(toString(pt.value()), "hello");
  EXPECT_EQ(recv.nonce(), 1u);
  // Replaying the same ciphertext now fails: the receiver expects nonce 1.
  EXPECT_EQ(recv.decryptWithAd(asBytes("ad"), ct.value()).status().code(), Code::kAuthFailed);
}

TEST(CipherState, EnforcesTheMessageSizeLimit) {
  CipherState c = keyed(3);
  EXPECT_TRUE(c.encryptWithAd({}, Bytes(kMaxMessageLen - kTagLen)).isOk());
  EXPECT_EQ(c.encryptWithAd({}, Bytes(kMaxMessageLen - kTagLen + 1)).status().code(), Code::kTooLarge);
  EXPECT_EQ(c.decryptWithAd({}, Bytes(kMaxMessageLen + 1)).status().code(), Code::kTooLarge);
  EXPECT_EQ(c.nonce(), 1u);
}

// Spec 5.1: nonce 2^64-1 is reserved; once n reaches it the key must not be used again.
TEST(CipherState, NonceExhaustionAtTwoToTheSixtyFourMinusOneIsAnError) {
  CipherState send = keyed(4);
  CipherState recv = keyed(4);
  send.setNonce(kReservedNonce - 1);
  recv.setNonce(kReservedNonce - 1);
  auto last = send.encryptWithAd({}, asBytes("last"));
  ASSERT_TRUE(last.isOk()) << "nonce 2^64-2 is the last usable one";
  EXPECT_EQ(last.value(), sodiumEncrypt(keyOf(4), kReservedNonce - 1, {}, asBytes("last")));
  EXPECT_EQ(send.nonce(), kReservedNonce);
  EXPECT_EQ(send.encryptWithAd({}, asBytes("more")).status().code(), Code::kClosed);
  EXPECT_EQ(send.nonce(), kReservedNonce) << "no wrap-around to 0";

  ASSERT_TRUE(recv.decryptWithAd({}, last.value()).isOk());
  EXPECT_EQ(recv.decryptWithAd({}, last.value()).status().code(), Code::kClosed);
  // A fresh key resets the nonce (spec InitializeKey).
  send.initializeKey(keyOf(5));
  EXPECT_EQ(send.nonce(), 0u);
  EXPECT_TRUE(send.encryptWithAd({}, asBytes("x")).isOk());
}

// Spec 4.2/5.1: REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes); the
// nonce is left alone.
TEST(CipherState, RekeyFollowsTheSpecAndKeepsTheNonce) {
  CipherState a = keyed(6);
  ASSERT_TRUE(a.encryptWithAd({}, asBytes("one")).isOk());
  a.rekey();
  EXPECT_EQ(a.nonce(), 1u);
  Bytes zeros(kKeyLen, 0);
  Bytes next = sodiumEncrypt(keyOf(6), kReservedNonce, {}, zeros);
  CipherKey k2;
  std::copy_n(next.begin(), kKeyLen, k2.begin());
  auto ct = a.encryptWithAd(asBytes("ad"), asBytes("two"));
  ASSERT_TRUE(ct.isOk());
  EXPECT_EQ(ct.value(), sodiumEncrypt(k2, 1, asBytes("ad"), asBytes("two")));

  // Both ends rekeying at the same point stay in step; one that does not fails.
  CipherState s = keyed(7), r = keyed(7), lagging = keyed(7);
  s.rekey();
  r.rekey();
  auto m = s.encryptWithAd({}, asBytes("m"));
  ASSERT_TRUE(m.isOk());
  EXPECT_TRUE(r.decryptWithAd({}, m.value()).isOk());
  EXPECT_EQ(lagging.decryptWithAd({}, m.value()).status().code(), Code::kAuthFailed);
}

TEST(CipherState, MoveTransfersTheKeyAndLeavesTheSourceKeyless) {
  CipherState a = keyed(8);
  ASSERT_TRUE(a.encryptWithAd({}, asBytes("x")).isOk());
  CipherState b = std::move(a);
  EXPECT_TRUE(b.hasKey());
  EXPECT_EQ(b.nonce(), 1u);
  EXPECT_FALSE(a.hasKey());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(a.nonce(), 0u);
}

TEST(SymmetricState, InitializesFromShortAndLongProtocolNames) {
  SymmetricState s;
  s.initializeSymmetric("Noise_NN_25519_ChaChaPoly_BLAKE2b");
  Hash padded{};
  std::string name = "Noise_NN_25519_ChaChaPoly_BLAKE2b";
  std::copy(name.begin(), name.end(), padded.begin());
  EXPECT_EQ(s.handshakeHash(), padded);
  EXPECT_FALSE(s.hasKey());

  std::string long_name(kHashLen + 1, 'x');
  s.initializeSymmetric(long_name);
  EXPECT_EQ(s.handshakeHash(), hash(asBytes(long_name)));
}

TEST(SymmetricState, EncryptAndDecryptAndHashStayInStepAndRejectTampering) {
  SymmetricState a, b;
  a.initializeSymmetric("test");
  b.initializeSymmetric("test");
  // Without a key the payload is sent in clear and still mixed into h.
  auto clear = a.encryptAndHash(asBytes("hi"));
  ASSERT_TRUE(clear.isOk());
  EXPECT_EQ(toString(clear.value()), "hi");
  ASSERT_TRUE(b.decryptAndHash(clear.value()).isOk());
  EXPECT_EQ(a.handshakeHash(), b.handshakeHash());

  a.mixKey(asBytes("shared secret"));
  b.mixKey(asBytes("shared secret"));
  auto ct = a.encryptAndHash(asBytes("secret payload"));
  ASSERT_TRUE(ct.isOk());
  EXPECT_EQ(ct->size(), 14 + kTagLen);
  Hash before = b.handshakeHash();
  Bytes bad = ct.value();
  bad[3] ^= 0x10;
  EXPECT_EQ(b.decryptAndHash(bad).status().code(), Code::kAuthFailed);
  EXPECT_EQ(b.handshakeHash(), before) << "h changes only on success";
  auto pt = b.decryptAndHash(ct.value());
  ASSERT_TRUE(pt.isOk());
  EXPECT_EQ(toString(pt.value()), "secret payload");
  EXPECT_EQ(a.handshakeHash(), b.handshakeHash());

  auto [a1, a2] = a.split();
  auto [b1, b2] = b.split();
  auto m = a1.encryptWithAd({}, asBytes("transport"));
  ASSERT_TRUE(m.isOk());
  EXPECT_TRUE(b1.decryptWithAd({}, m.value()).isOk());
  EXPECT_EQ(b2.decryptWithAd({}, m.value()).status().code(), Code::kAuthFailed) << "two distinct keys";
}

// ---- HandshakeState ----

constexpr char kXXpsk3[] = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b";

Key32 filled(uint8_t b) {
  Key32 k;
  k.fill(b);
  return k;
}

HandshakeConfig xxConfig(bool initiator, std::vector<Key32> psks = {filled(9)}) {
  HandshakeConfig c;
  c.protocol_name = kXXpsk3;
  c.initiator = initiator;
  c.prologue = toBytes("test prologue");
  c.local_static = keyPairFromPrivate(filled(initiator ? 1 : 2));
  c.psks = std::move(psks);
  return c;
}

struct Pair {
  HandshakeState init = HandshakeState::create(xxConfig(true)).value();
  HandshakeState resp = HandshakeState::create(xxConfig(false)).value();
};

// Runs the handshake, returning the three messages.
std::vector<Bytes> completeHandshake(Pair& p) {
  std::vector<Bytes> wire;
  for (int i = 0; i < 3; ++i) {
    HandshakeState& w = i % 2 == 0 ? p.init : p.resp;
    HandshakeState& r = i % 2 == 0 ? p.resp : p.init;
    auto m = w.writeMessage({});
    EXPECT_TRUE(m.isOk()) << i;
    if (!m.isOk()) return wire;
    EXPECT_TRUE(r.readMessage(m.value()).isOk()) << i;
    wire.push_back(m.value());
  }
  return wire;
}

TEST(HandshakeState, RejectsConfigsThatDoNotFitThePattern) {
  EXPECT_EQ(HandshakeState::create(xxConfig(true, {})).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(HandshakeState::create(xxConfig(true, {filled(1), filled(2)})).status().code(), Code::kInvalidArgument);
  HandshakeConfig no_static = xxConfig(true);
  no_static.local_static.reset();
  EXPECT_EQ(HandshakeState::create(no_static).status().code(), Code::kInvalidArgument);
  HandshakeConfig spare_remote = xxConfig(true);
  spare_remote.remote_static = filled(3);
  EXPECT_EQ(HandshakeState::create(spare_remote).status().code(), Code::kInvalidArgument);
  HandshakeConfig ik;
  ik.protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
  ik.initiator = true;
  ik.local_static = keyPairFromPrivate(filled(1));
  EXPECT_EQ(HandshakeState::create(ik).status().code(), Code::kInvalidArgument) << "IK needs the responder's key";
  HandshakeConfig ee = xxConfig(true);
  ee.remote_ephemeral = filled(4);
  EXPECT_EQ(HandshakeState::create(ee).status().code(), Code::kInvalidArgument);
  for (const char* name : {"Noise_QQ_25519_ChaChaPoly_BLAKE2b", "Noise_XX_448_ChaChaPoly_BLAKE2b",
                           "Noise_XXpsk9_25519_ChaChaPoly_BLAKE2b", "XX", "", "Noise_XX_25519_AESGCM_SHA256"}) {
    HandshakeConfig c = xxConfig(true, {});
    c.protocol_name = name;
    EXPECT_EQ(HandshakeState::create(c).status().code(), Code::kInvalidArgument) << name;
  }
}

TEST(HandshakeState, OutOfTurnCallsFailAndLeaveTheStateUsable) {
  Pair p;
  EXPECT_TRUE(p.init.writeTurn());
  EXPECT_FALSE(p.resp.writeTurn());
  EXPECT_EQ(p.resp.writeMessage({}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(p.init.readMessage(Bytes(48)).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(p.init.isDead());
  EXPECT_FALSE(p.resp.isDead());
  auto m1 = p.init.writeMessage({});
  ASSERT_TRUE(m1.isOk());
  EXPECT_EQ(p.init.writeMessage({}).status().code(), Code::kInvalidArgument) << "two writes in a row";
  ASSERT_TRUE(p.resp.readMessage(m1.value()).isOk());
  EXPECT_EQ(p.resp.readMessage(m1.value()).status().code(), Code::kInvalidArgument) << "two reads in a row";
  EXPECT_EQ(p.init.split().status().code(), Code::kInvalidArgument) << "split before the end";
  // The interrupted handshake still completes.
  auto m2 = p.resp.writeMessage({});
  ASSERT_TRUE(m2.isOk());
  ASSERT_TRUE(p.init.readMessage(m2.value()).isOk());
  auto m3 = p.init.writeMessage({});
  ASSERT_TRUE(m3.isOk());
  ASSERT_TRUE(p.resp.readMessage(m3.value()).isOk());
  EXPECT_TRUE(p.init.isFinished());
  EXPECT_TRUE(p.resp.isFinished());
  EXPECT_EQ(p.init.handshakeHash(), p.resp.handshakeHash());
}

TEST(HandshakeState, MessagesAfterCompletionAndDoubleSplitFail) {
  Pair p;
  ASSERT_EQ(completeHandshake(p).size(), 3u);
  EXPECT_EQ(p.init.writeMessage({}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(p.resp.readMessage(Bytes(64)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(p.resp.writeMessage({}).status().code(), Code::kInvalidArgument);
  auto ti = p.init.splitForTransport();
  auto tr = p.resp.splitForTransport();
  ASSERT_TRUE(ti.isOk());
  ASSERT_TRUE(tr.isOk());
  EXPECT_EQ(p.init.split().status().code(), Code::kInvalidArgument);
  auto m = ti->send.encryptWithAd({}, asBytes("after"));
  ASSERT_TRUE(m.isOk());
  EXPECT_TRUE(tr->recv.decryptWithAd({}, m.value()).isOk());
  auto back = tr->send.encryptWithAd({}, asBytes("back"));
  ASSERT_TRUE(back.isOk());
  EXPECT_TRUE(ti->recv.decryptWithAd({}, back.value()).isOk());
}

// Every proper prefix of every handshake message, and every message with a flipped bit at its
// start, middle or end, kills the reader's handshake with an error; later calls say kClosed.
TEST(HandshakeState, TruncatedOrAlteredMessagesKillTheHandshake) {
  Pair ref;
  std::vector<Bytes> wire = completeHandshake(ref);
  ASSERT_EQ(wire.size(), 3u);
  for (size_t msg = 0; msg < 3; ++msg) {
    const size_t full = wire[msg].size();
    // Cases 0..full-1: a prefix of that length; full..full+2: a flipped bit at start/middle/end.
    for (size_t c = 0; c < full + 3; ++c) {
      Pair p;
      for (size_t i = 0; i <= msg; ++i) {
        HandshakeState& w = i % 2 == 0 ? p.init : p.resp;
        HandshakeState& r = i % 2 == 0 ? p.resp : p.init;
        auto m = w.writeMessage({});
        ASSERT_TRUE(m.isOk());
        ASSERT_EQ(m->size(), wire[i].size());
        if (i < msg) {
          ASSERT_TRUE(r.readMessage(m.value()).isOk());
          continue;
        }
        Bytes bad = m.value();
        if (c < full) {
          bad.resize(c);
        } else {
          size_t at = c == full ? 0 : c == full + 1 ? full / 2 : full - 1;
          bad[at] ^= 0x04;
        }
        auto got = r.readMessage(bad);
        ASSERT_FALSE(got.isOk()) << "message " << msg + 1 << " case " << c;
        EXPECT_TRUE(got.status().code() == Code::kMalformed || got.status().code() == Code::kAuthFailed)
            << got.status().toString();
        EXPECT_TRUE(r.isDead());
        EXPECT_FALSE(r.isFinished());
        EXPECT_EQ(r.readMessage(m.value()).status().code(), Code::kClosed) << "dead stays dead";
        EXPECT_EQ(r.writeMessage({}).status().code(), Code::kClosed);
        EXPECT_EQ(r.split().status().code(), Code::kClosed);
      }
    }
  }
}

TEST(HandshakeState, WrongPskFailsAtMessageThreeAndWrongPrologueAtMessageOne) {
  // psk3: the psk enters at the end of message 3, so messages 1 and 2 still verify.
  HandshakeState init = HandshakeState::create(xxConfig(true, {filled(1)})).value();
  HandshakeState resp = HandshakeState::create(xxConfig(false, {filled(2)})).value();
  for (int i = 0; i < 2; ++i) {
    HandshakeState& w = i % 2 == 0 ? init : resp;
    HandshakeState& r = i % 2 == 0 ? resp : init;
    auto m = w.writeMessage({});
    ASSERT_TRUE(m.isOk());
    ASSERT_TRUE(r.readMessage(m.value()).isOk()) << "message " << i + 1;
  }
  auto m3 = init.writeMessage({});
  ASSERT_TRUE(m3.isOk());
  EXPECT_TRUE(init.isFinished()) << "XX: the initiator finishes before the responder checks the psk";
  EXPECT_EQ(resp.readMessage(m3.value()).status().code(), Code::kAuthFailed);
  EXPECT_TRUE(resp.isDead());

  // The prologue is in h from the start: message 1's payload tag already fails.
  HandshakeConfig other = xxConfig(false);
  other.prologue = toBytes("another prologue");
  HandshakeState init2 = HandshakeState::create(xxConfig(true)).value();
  HandshakeState resp2 = HandshakeState::create(other).value();
  auto m = init2.writeMessage({});
  ASSERT_TRUE(m.isOk());
  EXPECT_EQ(resp2.readMessage(m.value()).status().code(), Code::kAuthFailed);
}

TEST(HandshakeState, LowOrderKeysAndOversizedMessagesAreRejected) {
  // A responder that sends the all-zero point as its ephemeral: the initiator's ee DH is
  // all-zero, which dh() refuses (a low-order point), killing the handshake.
  Pair p;
  auto m1 = p.init.writeMessage({});
  ASSERT_TRUE(m1.isOk());
  ASSERT_TRUE(p.resp.readMessage(m1.value()).isOk());
  auto m2 = p.resp.writeMessage({});
  ASSERT_TRUE(m2.isOk());
  Bytes zero_e = m2.value();
  std::fill(zero_e.begin(), zero_e.begin() + kDhLen, 0);
  auto read = p.init.readMessage(zero_e);
  EXPECT_EQ(read.status().code(), Code::kAuthFailed);
  EXPECT_NE(read.status().message().find("low-order"), std::string::npos) << read.status().toString();
  EXPECT_TRUE(p.init.isDead());

  // A responder whose static key is known up front (NK) but is a low-order point.
  HandshakeConfig nk;
  nk.protocol_name = "Noise_NK_25519_ChaChaPoly_BLAKE2b";
  nk.initiator = true;
  nk.remote_static = Key32{};
  HandshakeState h = HandshakeState::create(nk).value();
  EXPECT_EQ(h.writeMessage({}).status().code(), Code::kAuthFailed);
  EXPECT_TRUE(h.isDead());
  EXPECT_EQ(h.writeMessage({}).status().code(), Code::kClosed);

  Pair q;
  EXPECT_EQ(q.init.writeMessage(Bytes(kMaxMessageLen)).status().code(), Code::kTooLarge);
  EXPECT_FALSE(q.init.isDead()) << "a too large payload leaves the state unchanged";
  auto ok = q.init.writeMessage(Bytes(kMaxMessageLen - kDhLen - kTagLen));
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->size(), kMaxMessageLen);
  EXPECT_TRUE(q.resp.readMessage(ok.value()).isOk());
  Pair r;
  ASSERT_TRUE(r.init.writeMessage({}).isOk());
  EXPECT_EQ(r.resp.readMessage(Bytes(kMaxMessageLen + 1)).status().code(), Code::kTooLarge);
  EXPECT_TRUE(r.resp.isDead());
}

}  // namespace
}  // namespace meshslice::noise
