#include "transport/noise_handshake_state.h"

#include <algorithm>

namespace meshslice::noise {
namespace {

Status closedStatus() { return Status(Code::kClosed, "noise: handshake already failed"); }
Status missingKey(const char* what) {
  return Status(Code::kInternal, std::string("noise: pattern needs ") + what + " not known yet");
}

Status validateConfig(const HandshakePattern& p, const HandshakeConfig& c) {
  if (p.sendsStatic(c.initiator) && !c.local_static) {
    return invalidArgument("noise: " + p.name + " needs a local static key pair");
  }
  if (p.needsRemoteStaticUpFront(c.initiator) != c.remote_static.has_value()) {
    return invalidArgument(c.remote_static ? "noise: " + p.name + " takes no remote static key"
                                           : "noise: " + p.name + " needs the remote static key");
  }
  if (p.needsRemoteEphemeralUpFront(c.initiator) != c.remote_ephemeral.has_value()) {
    return invalidArgument("noise: remote ephemeral does not match the pattern's pre-messages");
  }
  if (c.psks.size() != p.pskCount()) {
    return invalidArgument("noise: " + p.name + " needs " + std::to_string(p.pskCount()) +
                           " psk(s), got " + std::to_string(c.psks.size()));
  }
  return Status::ok();
}

}  // namespace

Result<HandshakeState> HandshakeState::create(const HandshakeConfig& config) {
  ensureSodium();
  auto pattern = parseProtocolName(config.protocol_name);
  if (!pattern.isOk()) return pattern.status();
  MS_RETURN_IF_ERROR(validateConfig(pattern.value(), config));

  HandshakeState hs;
  hs.pattern_ = std::move(pattern).value();
  hs.initiator_ = config.initiator;
  hs.s_ = config.local_static;
  hs.e_ = config.fixed_ephemeral;
  hs.rs_ = config.remote_static;
  hs.re_ = config.remote_ephemeral;
  hs.psks_ = config.psks;

  hs.symmetric_.initializeSymmetric(config.protocol_name);
  hs.symmetric_.mixHash(config.prologue);
  // Pre-messages: the initiator's keys first, then the responder's (spec 5.3 Initialize).
  for (bool initiator_side : {true, false}) {
    bool mine = initiator_side == hs.initiator_;
    for (Token t : initiator_side ? hs.pattern_.initiator_pre : hs.pattern_.responder_pre) {
      if (t == Token::kS) hs.symmetric_.mixHash(mine ? ByteView(hs.s_->pub) : ByteView(*hs.rs_));
      if (t == Token::kE) {
        if (mine && !hs.e_) return invalidArgument("noise: e pre-message needs a fixed ephemeral");
        hs.mixEphemeral(mine ? hs.e_->pub : *hs.re_);
      }
    }
  }
  return hs;
}

HandshakeState::~HandshakeState() {
  for (Key32& k : psks_) wipe(k);
  if (rs_) wipe(*rs_);
  if (re_) wipe(*re_);
}

Status HandshakeState::checkCanProceed(bool writing) const {
  if (dead_) return closedStatus();
  if (next_message_ >= pattern_.messages.size()) {
    return invalidArgument("noise: handshake already finished");
  }
  if (writeTurn() != writing) {
    return invalidArgument(writing ? "noise: expected to read the next message"
                                   : "noise: expected to write the next message");
  }
  return Status::ok();
}

Status HandshakeState::fail(Status why) {
  dead_ = true;
  symmetric_ = SymmetricState();
  s_.reset();
  e_.reset();
  for (Key32& k : psks_) wipe(k);
  psks_.clear();
  return why;
}

void HandshakeState::mixEphemeral(const Key32& pub) {
  symmetric_.mixHash(pub);
  // Spec 9.2: with psks, every "e" also feeds the key so later payloads are psk-bound.
  if (pattern_.hasPsk()) symmetric_.mixKey(pub);
}

size_t HandshakeState::predictMessageSize(size_t payload_size) const {
  bool has_key = symmetric_.hasKey();
  size_t size = 0;
  for (Token t : pattern_.messages[next_message_]) {
    if (t == Token::kE) {
      size += kDhLen;
      if (pattern_.hasPsk()) has_key = true;
    } else if (t == Token::kS) {
      size += kDhLen + (has_key ? kTagLen : 0);
    } else {
      has_key = true;  // every DH token and psk calls MixKey / MixKeyAndHash
    }
  }
  return size + payload_size + (has_key ? kTagLen : 0);
}

Status HandshakeState::mixDh(Token t) {
  // es: initiator's ephemeral with responder's static; se: the reverse (spec 7.1).
  bool local_ephemeral = false, remote_ephemeral = false;
  switch (t) {
    case Token::kEE: local_ephemeral = remote_ephemeral = true; break;
    case Token::kES: local_ephemeral = initiator_, remote_ephemeral = !initiator_; break;
    case Token::kSE: local_ephemeral = !initiator_, remote_ephemeral = initiator_; break;
    default: break;  // ss
  }
  const std::optional<KeyPair>& local = local_ephemeral ? e_ : s_;
  const std::optional<Key32>& remote = remote_ephemeral ? re_ : rs_;
  if (!local) return missingKey(local_ephemeral ? "our ephemeral" : "our static key");
  if (!remote) return missingKey(remote_ephemeral ? "the peer's ephemeral" : "the peer's static");
  auto shared = dh(*local, *remote);
  if (!shared.isOk()) return shared.status();
  symmetric_.mixKey(shared.value());
  wipe(shared.value());
  return Status::ok();
}

Status HandshakeState::writeToken(Token t, Bytes& out) {
  switch (t) {
    case Token::kE:
      if (!e_) e_ = generateKeyPair();
      out.insert(out.end(), e_->pub.begin(), e_->pub.end());
      mixEphemeral(e_->pub);
      return Status::ok();
    case Token::kS: {
      auto ct = symmetric_.encryptAndHash(s_->pub);
      if (!ct.isOk()) return ct.status();
      out.insert(out.end(), ct->begin(), ct->end());
      return Status::ok();
    }
    case Token::kPsk:
      symmetric_.mixKeyAndHash(psks_[next_psk_++]);
      return Status::ok();
    default:
      return mixDh(t);
  }
}

Result<Bytes> HandshakeState::writeMessage(ByteView payload) {
  MS_RETURN_IF_ERROR(checkCanProceed(/*writing=*/true));
  if (predictMessageSize(payload.size()) > kMaxMessageLen) {
    return tooLarge("noise: handshake message would exceed 65535 bytes");
  }
  Bytes out;
  for (Token t : pattern_.messages[next_message_]) {
    Status st = writeToken(t, out);
    if (!st.isOk()) return fail(st);
  }
  auto ct = symmetric_.encryptAndHash(payload);
  if (!ct.isOk()) return fail(ct.status());
  out.insert(out.end(), ct->begin(), ct->end());
  ++next_message_;
  return out;
}

Status HandshakeState::readToken(Token t, ByteView message, size_t& pos) {
  size_t left = message.size() - pos;
  switch (t) {
    case Token::kE: {
      if (left < kDhLen) return malformed("noise: message too short for an ephemeral key");
      Key32 re;
      std::copy_n(message.begin() + pos, kDhLen, re.begin());
      pos += kDhLen;
      re_ = re;
      mixEphemeral(re);
      return Status::ok();
    }
    case Token::kS: {
      size_t len = kDhLen + (symmetric_.hasKey() ? kTagLen : 0);
      if (left < len) return malformed("noise: message too short for a static key");
      auto pub = symmetric_.decryptAndHash(message.subspan(pos, len));
      if (!pub.isOk()) return pub.status();
      pos += len;
      Key32 rs;
      std::copy_n(pub->begin(), kDhLen, rs.begin());
      rs_ = rs;
      return Status::ok();
    }
    case Token::kPsk:
      symmetric_.mixKeyAndHash(psks_[next_psk_++]);
      return Status::ok();
    default:
      return mixDh(t);
  }
}

Result<Bytes> HandshakeState::readMessage(ByteView message) {
  MS_RETURN_IF_ERROR(checkCanProceed(/*writing=*/false));
  if (message.size() > kMaxMessageLen) {
    return fail(tooLarge("noise: handshake message exceeds 65535 bytes"));
  }
  size_t pos = 0;
  for (Token t : pattern_.messages[next_message_]) {
    Status st = readToken(t, message, pos);
    if (!st.isOk()) return fail(st);
  }
  auto payload = symmetric_.decryptAndHash(message.subspan(pos));
  if (!payload.isOk()) return fail(payload.status());
  ++next_message_;
  return payload;
}

Result<std::pair<CipherState, CipherState>> HandshakeState::split() {
  if (dead_) return closedStatus();
  if (!isFinished()) return invalidArgument("noise: split before the handshake finished");
  if (split_done_) return invalidArgument("noise: split called twice");
  split_done_ = true;
  auto ciphers = symmetric_.split();
  s_.reset();
  e_.reset();
  return ciphers;
}

Result<TransportCiphers> HandshakeState::splitForTransport() {
  auto ciphers = split();
  if (!ciphers.isOk()) return ciphers.status();
  auto& [c1, c2] = ciphers.value();
  if (initiator_) return TransportCiphers{std::move(c1), std::move(c2)};
  return TransportCiphers{std::move(c2), std::move(c1)};
}

}  // namespace meshslice::noise
