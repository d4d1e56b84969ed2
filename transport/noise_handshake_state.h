// Noise HandshakeState (spec rev. 34, section 5.3), generic over handshake patterns, for the
// suite 25519 + ChaChaPoly + BLAKE2b.
//
// Usage: create() from a HandshakeConfig, then alternate writeMessage()/readMessage() as
// writeTurn() says until isFinished(), then split() into transport CipherStates.
//
// Contract: one owner, one thread (the link's loop thread). Movable, not copyable. Any failure
// of readMessage()/writeMessage() caused by input, keys or crypto kills the handshake: every
// later call returns kClosed and the secrets are already wiped. Calling out of turn or after
// the end returns kInvalidArgument and leaves the state as it was.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "transport/noise_cipher_state.h"
#include "transport/noise_crypto.h"
#include "transport/noise_pattern.h"
#include "transport/noise_symmetric_state.h"

namespace meshslice::noise {

struct HandshakeConfig {
  std::string protocol_name;  // e.g. "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b"
  bool initiator = false;
  Bytes prologue;  // must be identical on both sides
  // Required when the pattern sends our static key; ignored otherwise.
  std::optional<KeyPair> local_static;
  // Tests and known-answer vectors only: the ephemeral key to use instead of a fresh random
  // one. Never set this in production; reusing an ephemeral breaks forward secrecy.
  std::optional<KeyPair> fixed_ephemeral;
  // The peer's static key, required exactly when the pattern has it as a pre-message (the
  // "K" / "<- s" side); rejected otherwise (check remoteStatic() after the handshake instead).
  std::optional<Key32> remote_static;
  // The peer's ephemeral for patterns with an "e" pre-message (none of the built-in ones).
  std::optional<Key32> remote_ephemeral;
  // One key per psk token, in the order the tokens occur.
  std::vector<Key32> psks;
};

// The transport keys seen from one side: what it encrypts with and what it decrypts with.
struct TransportCiphers {
  CipherState send;
  CipherState recv;
};

class HandshakeState {
 public:
  // kInvalidArgument for a bad/unsupported protocol name or keys/psks that do not fit it.
  static Result<HandshakeState> create(const HandshakeConfig& config);

  ~HandshakeState();
  HandshakeState(HandshakeState&&) noexcept = default;
  HandshakeState& operator=(HandshakeState&&) noexcept = default;
  HandshakeState(const HandshakeState&) = delete;
  HandshakeState& operator=(const HandshakeState&) = delete;

  // Builds the next handshake message carrying `payload` (encrypted once a key exists).
  // kTooLarge if the message would exceed kMaxMessageLen (state unchanged).
  Result<Bytes> writeMessage(ByteView payload);
  // Consumes the peer's next handshake message and returns its payload. kMalformed for a
  // short/oversized message or a bad key, kAuthFailed for a failed tag or DH; both are fatal.
  Result<Bytes> readMessage(ByteView message);

  bool isInitiator() const { return initiator_; }
  bool isFinished() const { return !dead_ && next_message_ == pattern_.messages.size(); }
  bool isDead() const { return dead_; }
  // True when the next call must be writeMessage(), false when it must be readMessage().
  bool writeTurn() const { return (next_message_ % 2 == 0) == initiator_; }
  const HandshakePattern& pattern() const { return pattern_; }

  // The peer's static key once known (pre-message or received), else nullopt.
  const std::optional<Key32>& remoteStatic() const { return rs_; }
  // The handshake hash h; after the final message it is the channel-binding value.
  const Hash& handshakeHash() const { return symmetric_.handshakeHash(); }

  // Spec Split(): {initiator->responder, responder->initiator}. Only once finished, and only
  // once (kInvalidArgument otherwise); the handshake secrets are wiped afterwards.
  Result<std::pair<CipherState, CipherState>> split();
  // split() arranged for this side: send/recv. For one-way patterns only the initiator's send
  // (= responder's recv) is meaningful.
  Result<TransportCiphers> splitForTransport();

 private:
  HandshakeState() = default;

  Status checkCanProceed(bool writing) const;
  Status writeToken(Token t, Bytes& out);
  Status readToken(Token t, ByteView message, size_t& pos);
  Status mixDh(Token t);
  void mixEphemeral(const Key32& pub);
  // Exact size writeMessage() would produce, computed without touching the state.
  size_t predictMessageSize(size_t payload_size) const;
  // Wipes every secret and marks the handshake unusable; returns `why` for convenience.
  Status fail(Status why);

  HandshakePattern pattern_;
  bool initiator_ = false;
  SymmetricState symmetric_;
  std::optional<KeyPair> s_;
  std::optional<KeyPair> e_;
  std::optional<Key32> rs_;
  std::optional<Key32> re_;
  std::vector<Key32> psks_;
  size_t next_psk_ = 0;
  size_t next_message_ = 0;
  bool dead_ = false;
  bool split_done_ = false;
};

}  // namespace meshslice::noise
