// PeerSession: one authenticated link to one peer device. It owns the SecureChannel, runs the
// Hello exchange inside it, decodes envelopes and hands them to its owner. The peer's device ID
// is derived from the static key the handshake authenticated; a Hello claiming another ID is a
// protocol violation. Hello rules (docs/PROTOCOL.md §4), each closing the link with the code
// linkErrorCode() gives and recorded in error():
// - the first message must be a Hello (kHelloMissing), and only the first (kHelloRepeated);
// - its device_id must be the authenticated key's (kHelloIdMismatch);
// - its version range must overlap ours (kIncompatible);
// - every message must decode as an envelope (kBadEnvelope).
//
// Threading: loop thread only. Owned by MeshCore; destroyed on a later turn after it closed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "mesh/device_id.h"
#include "mesh/envelope.h"
#include "mesh/link_error.h"
#include "transport/secure_channel.h"

namespace meshslice {

class PeerSession;

class SessionOwner {
 public:
  // Hello received and valid: the session is established.
  virtual void onSessionEstablished(PeerSession& session) = 0;
  virtual void onSessionEnvelope(PeerSession& session, Envelope&& envelope) = 0;
  // A Message envelope after the Hello, parsed in place (parseMessageEnvelope): views valid
  // for the call only.
  virtual void onSessionMessage(PeerSession& session, std::string_view ns, ByteView payload) = 0;
  virtual void onSessionClosed(PeerSession& session, const Status& reason) = 0;
  virtual void onSessionDrained(PeerSession&) {}

 protected:
  ~SessionOwner() = default;
};

struct LocalHello {
  DeviceId id;
  std::string name;
  uint16_t listen_port = 0;
  std::vector<std::string> capabilities;  // sent as they are (validated by the caller)
};

// The Hello this node sends: our version range and `local`'s fields.
Hello makeHello(const LocalHello& local);

class PeerSession final : private ChannelHandler {
 public:
  PeerSession(Env& env, std::unique_ptr<Link> link, bool initiator, const KeyPair& local_static,
              const Key32& psk, const LocalHello& hello, SessionOwner* owner,
              SecureChannelOptions options, std::string dialed_endpoint = {});

  void start() { channel_.start(); }
  // Encodes and queues an envelope. Fails with kClosed/kBusy/kTooLarge as the channel does.
  Status send(const Envelope& envelope);
  // Queues an envelope already encoded by encodeEnvelope()/encodeMessageEnvelope().
  Status sendEncoded(ByteView encoded);
  // The same for an envelope encoded as `head` followed by `body`.
  Status sendEncodedParts(ByteView head, ByteView body);
  void close(const Status& reason) { channel_.close(reason); }
  // Closes the link for `error` (with linkErrorCode(error) and `detail` as the reason) and
  // records it for error(), unless a reason was recorded already.
  void closeFor(LinkError error, const std::string& detail);

  bool established() const { return established_; }
  bool isOpen() const { return channel_.isOpen(); }
  bool initiator() const { return channel_.initiator(); }
  // Valid once the channel is ready.
  const DeviceId& peerId() const { return peer_id_; }
  const std::string& peerName() const { return peer_name_; }
  uint32_t protocolVersion() const { return protocol_version_; }
  // The port the peer listens on (from its Hello; 0 if it does not listen).
  uint16_t peerListenPort() const { return peer_listen_port_; }
  // The capabilities of the peer's Hello (empty before).
  const std::vector<std::string>& peerCapabilities() const { return peer_capabilities_; }
  // Why this session or its channel closed the link, if it was for one of the reasons of
  // mesh/link_error.h; nullopt while open or when the peer, the link or the owner closed it.
  std::optional<LinkError> error() const;
  std::string remoteAddress() const { return channel_.remoteAddress(); }
  // The endpoint we dialed to make this session (empty for accepted ones).
  const std::string& dialedEndpoint() const { return dialed_endpoint_; }
  size_t pendingBytes() const { return channel_.pendingBytes(); }
  // When the Hello arrived (0 before).
  Micros establishedAt() const { return established_at_; }
  Micros lastHeard() const { return last_heard_; }
  Micros lastSent() const { return last_sent_; }
  SecureChannel& channel() { return channel_; }

 private:
  void onChannelReady(SecureChannel&) override;
  void onChannelMessage(SecureChannel&, ByteView message) override;
  void onChannelClosed(SecureChannel&, const Status& reason) override;
  void onChannelDrained(SecureChannel&) override { owner_->onSessionDrained(*this); }
  void handleHello(const Hello& hello);

  Env& env_;
  SessionOwner* owner_;
  LocalHello local_hello_;
  std::string dialed_endpoint_;
  SecureChannel channel_;
  bool established_ = false;
  DeviceId peer_id_;
  std::string peer_name_;
  uint32_t protocol_version_ = 0;
  uint16_t peer_listen_port_ = 0;
  std::vector<std::string> peer_capabilities_;
  std::optional<LinkError> error_;
  Micros established_at_ = 0;
  Micros last_heard_ = 0;
  Micros last_sent_ = 0;
};

}  // namespace meshslice
