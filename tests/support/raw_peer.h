// A hand-driven link peer for hostile-input tests: it speaks Noise_XXpsk3 itself (HandshakeState
// and CipherState, no SecureChannel) over a MemoryTransport link, so a test can send any frame:
// a truncated or altered handshake message, a replayed or reordered transport frame, records
// that break the record rules, envelopes that break the session rules. Initiator only.
// Header-only; single-threaded (FakeEnv).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fake_env.h"
#include "transport/memory_transport.h"
#include "transport/noise_handshake_state.h"
#include "transport/record_codec.h"
#include "transport/secure_channel.h"

namespace meshslice::test {

class RawPeer final : private LinkHandler {
 public:
  RawPeer(FakeEnv& env, MemoryNetwork& net, const std::string& name, const Key32& psk)
      : env_(env), transport_(net, name) {
    noise::HandshakeConfig c;
    c.protocol_name = kLinkProtocolName;
    c.initiator = true;
    c.prologue = toBytes(kLinkPrologue);
    c.local_static = keys_ = noise::generateKeyPair();
    c.psks = {psk};
    handshake_.emplace(noise::HandshakeState::create(c).value());
  }
  const noise::KeyPair& keys() const { return keys_; }

  // Connects to `address` and starts reading. True once the link is up.
  bool connect(const std::string& address) {
    Status st = transport_.connect(address, [this](Result<std::unique_ptr<Link>> r) {
      if (r.isOk()) link_ = std::move(r).value();
    });
    if (!st.isOk()) return false;
    env_.runPending();
    if (!link_) return false;
    link_->start(this);
    return true;
  }

  // The next handshake message we would send (advances our handshake).
  Bytes nextHandshakeMessage() {
    auto m = handshake_->writeMessage({});
    EXPECT_TRUE(m.isOk()) << m.status().toString();
    return m.isOk() ? m.value() : Bytes();
  }
  // Waits for the responder's message 2 and reads it. False if it did not come or failed.
  bool readMessage2() {
    if (!env_.advanceUntil([&] { return !received_.empty() || closed_; }, kSeconds)) return false;
    if (received_.empty()) return false;
    Bytes m2 = received_.front();
    received_.erase(received_.begin());
    return handshake_->readMessage(m2).isOk();
  }
  // A complete, honest handshake: message 1, 2, 3 and split. `alter3` may change message 3.
  bool handshake(const std::function<void(Bytes&)>& alter3 = {}) {
    send(nextHandshakeMessage());
    if (!readMessage2()) return false;
    Bytes m3 = nextHandshakeMessage();
    if (alter3) alter3(m3);
    send(m3);
    auto t = handshake_->splitForTransport();
    if (!t.isOk()) return false;
    ciphers_.emplace(std::move(t).value());
    return true;
  }

  // Encrypts one frame plaintext with the next send nonce.
  Bytes seal(ByteView plaintext) {
    auto c = ciphers_->send.encryptWithAd({}, plaintext);
    EXPECT_TRUE(c.isOk());
    return c.isOk() ? c.value() : Bytes();
  }
  // One whole message as a single FIN record (messages up to one frame).
  static Bytes record(ByteView message, uint8_t flags = kRecordFin) {
    Bytes r{flags, static_cast<uint8_t>(message.size() >> 8), static_cast<uint8_t>(message.size())};
    r.insert(r.end(), message.begin(), message.end());
    return r;
  }
  Bytes sealMessage(ByteView message) { return seal(record(message)); }

  void send(ByteView frame) {
    if (link_ && link_->isOpen()) link_->sendFrame(frame).ignore();
  }
  // Transport frames from the node, decrypted, once the handshake is done.
  std::vector<Bytes> openReceived() {
    std::vector<Bytes> out;
    for (const Bytes& f : received_) {
      auto p = ciphers_->recv.decryptWithAd({}, f);
      if (p.isOk()) out.push_back(p.value());
    }
    received_.clear();
    return out;
  }

  bool closed() const { return closed_; }
  bool waitClosed(Micros limit = 10 * kSeconds) {
    return env_.advanceUntil([&] { return closed_; }, limit);
  }

 private:
  void onFrame(ByteView frame) override { received_.emplace_back(frame.begin(), frame.end()); }
  void onLinkClosed(const Status&) override { closed_ = true; }

  FakeEnv& env_;
  MemoryTransport transport_;
  std::unique_ptr<Link> link_;
  noise::KeyPair keys_;
  std::optional<noise::HandshakeState> handshake_;
  std::optional<noise::TransportCiphers> ciphers_;
  std::vector<Bytes> received_;
  bool closed_ = false;
};

}  // namespace meshslice::test
