#include "mesh/peer_session.h"

#include "base/log.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

Hello makeHello(const LocalHello& local) {
  Hello hello;
  hello.proto_min = kMinProtocolVersion;
  hello.proto_max = kProtocolVersion;
  hello.device_id = local.id;
  hello.name = local.name;
  hello.capabilities = local.capabilities;
  hello.listen_port = local.listen_port;
  return hello;
}

PeerSession::PeerSession(Env& env, std::unique_ptr<Link> link, bool initiator,
                         const KeyPair& local_static, const Key32& psk, const LocalHello& hello,
                         SessionOwner* owner, SecureChannelOptions options, std::string dialed_endpoint)
    : env_(env),
      owner_(owner),
      local_hello_(hello),
      dialed_endpoint_(std::move(dialed_endpoint)),
      channel_(env, std::move(link), initiator, local_static, psk, this, options) {
  last_heard_ = last_sent_ = env_.now();
}

Status PeerSession::send(const Envelope& envelope) {
  return sendEncoded(encodeEnvelope(envelope));
}

Status PeerSession::sendEncoded(ByteView encoded) {
  Status st = channel_.sendMessage(encoded);
  if (st.isOk()) last_sent_ = env_.now();
  return st;
}

Status PeerSession::sendEncodedParts(ByteView head, ByteView body) {
  const ByteView parts[] = {head, body};
  Status st = channel_.sendMessageParts(parts);
  if (st.isOk()) last_sent_ = env_.now();
  return st;
}

void PeerSession::onChannelReady(SecureChannel& channel) {
  peer_id_ = DeviceId::fromPublicKey(channel.remoteStatic());
  last_heard_ = env_.now();
  Status st = send(makeHello(local_hello_));
  if (!st.isOk()) channel_.close(st);
}

std::optional<LinkError> PeerSession::error() const {
  return error_ ? error_ : linkErrorOf(channel_.failure());
}

void PeerSession::closeFor(LinkError error, const std::string& detail) {
  if (!error_ && channel_.failure() == ChannelFailure::kNone) error_ = error;
  channel_.close(Status(linkErrorCode(error), detail));
}

void PeerSession::onChannelMessage(SecureChannel&, ByteView message) {
  last_heard_ = env_.now();
  if (established_) {
    if (auto m = parseMessageEnvelope(message)) return owner_->onSessionMessage(*this, m->ns, m->payload);
  }
  auto env = decodeEnvelope(message);
  if (!env) {
    closeFor(LinkError::kBadEnvelope, "bad envelope: " + env.status().message());
    return;
  }
  if (!established_) {
    auto* hello = std::get_if<Hello>(&env.value());
    if (!hello) {
      closeFor(LinkError::kHelloMissing, std::string("first message was a ") +
                                             envelopeTypeName(envelopeType(env.value())) + ", not a Hello");
      return;
    }
    handleHello(*hello);
    return;
  }
  if (std::holds_alternative<Hello>(env.value())) {
    closeFor(LinkError::kHelloRepeated, "second Hello");
    return;
  }
  owner_->onSessionEnvelope(*this, std::move(env).value());
}

void PeerSession::handleHello(const Hello& hello) {
  if (hello.device_id != peer_id_) {
    closeFor(LinkError::kHelloIdMismatch, "Hello claims device " + hello.device_id.toString() +
                                              " but the link authenticated " + peer_id_.toString());
    return;
  }
  uint32_t lo = std::max<uint32_t>(hello.proto_min, kMinProtocolVersion);
  uint32_t hi = std::min<uint32_t>(hello.proto_max, kProtocolVersion);
  if (lo > hi) {
    closeFor(LinkError::kIncompatible, "peer speaks protocol " + std::to_string(hello.proto_min) + ".." +
                                           std::to_string(hello.proto_max) + ", we speak " +
                                           std::to_string(kMinProtocolVersion) + ".." +
                                           std::to_string(kProtocolVersion));
    return;
  }
  protocol_version_ = hi;
  peer_name_ = hello.name;
  peer_listen_port_ = hello.listen_port;
  peer_capabilities_ = hello.capabilities;
  established_ = true;
  established_at_ = env_.now();
  owner_->onSessionEstablished(*this);
}

void PeerSession::onChannelClosed(SecureChannel&, const Status& reason) {
  owner_->onSessionClosed(*this, reason);
}

}  // namespace meshslice
