// SecureChannel: a Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b session over one Link.
//
// Handshake: three frames (initiator e; responder e,ee,s,es; initiator s,se,psk), empty
// payloads, bounded by a timeout and a small handshake frame limit. After it, every frame is
// one Noise transport message whose plaintext is a sequence of records:
//
//   record = flags:u8 | length:u16be | bytes[length]     flags bit 0 = FIN (last piece)
//
// A message is the concatenation of record bytes up to and including a FIN record. Messages
// sent during one loop turn are packed into as few frames as fit (batching) and encrypted
// straight into the link's write buffer at the end of that same turn (Env::runAtTurnEnd: no
// extra wake-up); messages longer than one frame are split (chunking). Both sides rekey after `rekey_interval` frames in each
// direction, at the same frame, with no signalling. Any decryption or format error closes the
// channel with a reason: a flipped, replayed, reordered or truncated frame fails the AEAD.
//
// Threading: loop thread only. Handlers must not destroy the channel from inside a callback;
// close it, and destroy it on a later turn (Env::post).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "base/env.h"
#include "transport/link.h"
#include "transport/noise_cipher_state.h"
#include "transport/noise_crypto.h"
#include "transport/noise_handshake_state.h"
#include "transport/record_codec.h"

namespace meshslice {

using KeyPair = noise::KeyPair;

constexpr char kLinkProtocolName[] = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b";
// Binds the handshake to our protocol and its framing version; a peer that speaks another
// framing fails the handshake instead of misparsing frames.
constexpr char kLinkPrologue[] = "meshslice link v1";
constexpr size_t kMaxHandshakeFrame = 1024;
// Default bound on one application message (its records reassembled): 1 MiB + 64 KiB, the
// mesh layer's kMaxMessageSize (mesh/protocol_constants.h asserts they are equal).
inline constexpr size_t kMaxChannelMessageSize = 1088 * 1024;

struct SecureChannelOptions {
  Micros handshake_timeout = 5 * kSeconds;
  uint64_t rekey_interval = 1u << 16;  // frames per direction
  size_t max_message_size = kMaxChannelMessageSize;
  // Plaintext bytes queued in the channel (beyond the link's own queue) before sendMessage
  // returns kBusy.
  size_t max_pending_bytes = 4 * 1024 * 1024;
  // Golden-vector tests only: a fixed ephemeral key. Never set it in production: reusing an
  // ephemeral key destroys forward secrecy.
  std::optional<noise::KeyPair> fixed_ephemeral_for_tests;
};

// Why a channel closed itself. kNone: it did not (the peer, the link or the owner closed it).
enum class ChannelFailure : uint8_t {
  kNone,
  kHandshakeTimeout,    // the handshake did not finish within handshake_timeout
  kHandshakeOversized,  // a handshake frame above kMaxHandshakeFrame
  kHandshakeRejected,   // a handshake message failed: wrong mesh secret, altered, truncated, junk
  kFrameRejected,       // a transport frame failed authentication: altered, replayed, reordered
  kRecordMalformed,     // a decrypted frame broke the record rules
  kMessageTooLarge,     // a message's records added up to more than max_message_size
  kSendFailed,          // our own side: encrypting or handing a frame to the link failed
};
// "handshake-timeout", "frame-rejected", ... for logs and counters.
const char* channelFailureName(ChannelFailure failure);

struct ChannelStats {
  uint64_t frames_sent = 0, frames_received = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;  // transport frame bodies (ciphertext)
  uint64_t messages_sent = 0, messages_received = 0;
  uint64_t rekeys = 0;
};

class SecureChannel;

class ChannelHandler {
 public:
  // The handshake finished; remoteStatic() is authenticated (it holds the mesh PSK).
  virtual void onChannelReady(SecureChannel& channel) = 0;
  virtual void onChannelMessage(SecureChannel& channel, ByteView message) = 0;
  // Called once. After it the channel is inert.
  virtual void onChannelClosed(SecureChannel& channel, const Status& reason) = 0;
  virtual void onChannelDrained(SecureChannel&) {}

 protected:
  ~ChannelHandler() = default;
};

class SecureChannel final : private LinkHandler {
 public:
  // `env` and `handler` must outlive the channel. `psk` is the mesh's derived Noise PSK.
  SecureChannel(Env& env, std::unique_ptr<Link> link, bool initiator, const KeyPair& local_static,
                const Key32& psk, ChannelHandler* handler, SecureChannelOptions options = {});
  ~SecureChannel();
  SecureChannel(const SecureChannel&) = delete;
  SecureChannel& operator=(const SecureChannel&) = delete;

  // Starts reading; the initiator sends its first handshake message. Errors arrive through
  // onChannelClosed on a later turn.
  void start();
  // Queues one message. Errors: kClosed, kInvalidArgument (before ready), kTooLarge, kBusy.
  Status sendMessage(ByteView message);
  // The same for the message that is the concatenation of `parts` (copied once, into the
  // record queue).
  Status sendMessageParts(std::span<const ByteView> parts);
  // Sends what is queued, then closes the link. onChannelClosed(reason) follows.
  void close(const Status& reason);

  bool ready() const { return state_ == State::kReady; }
  bool isOpen() const { return state_ != State::kClosed; }
  bool initiator() const { return initiator_; }
  // Valid once ready.
  const Key32& remoteStatic() const { return remote_static_; }
  std::string remoteAddress() const { return link_ ? link_->remoteAddress() : std::string(); }
  int64_t roundTripMicros() const { return link_ ? link_->roundTripMicros() : -1; }
  size_t pendingBytes() const;
  const ChannelStats& stats() const { return stats_; }
  // Set when the channel closed itself for a reason of its own (before onChannelClosed).
  ChannelFailure failure() const { return failure_; }
  // For tests that inject faults below the channel.
  Link* link() { return link_.get(); }

 private:
  enum class State { kHandshake, kReady, kClosed };
  void onFrame(ByteView frame) override;
  void onLinkClosed(const Status& reason) override;
  void onLinkDrained() override;
  void handleHandshakeFrame(ByteView frame);
  void handleTransportFrame(ByteView frame);
  Status sendHandshakeMessage();
  void becomeReady();
  void scheduleFlush();
  void flush();
  void fail(ChannelFailure kind, const Status& reason);

  Env& env_;
  std::unique_ptr<Link> link_;
  bool initiator_;
  ChannelHandler* handler_;
  SecureChannelOptions options_;
  State state_ = State::kHandshake;
  std::optional<noise::HandshakeState> handshake_;
  noise::CipherState send_, recv_;
  Key32 remote_static_{};
  std::unique_ptr<Timer> handshake_timer_;
  RecordWriter outgoing_;  // plaintext records not yet encrypted
  RecordReader incoming_;
  bool flush_scheduled_ = false;
  bool closing_ = false;
  ChannelFailure failure_ = ChannelFailure::kNone;
  ChannelStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshslice
