#include "transport/secure_channel.h"

#include <sodium.h>

#include "base/log.h"

namespace meshslice {

SecureChannel::SecureChannel(Env& env, std::unique_ptr<Link> link, bool initiator,
                             const KeyPair& local_static, const Key32& psk, ChannelHandler* handler,
                             SecureChannelOptions options)
    : env_(env), link_(std::move(link)), initiator_(initiator), handler_(handler), options_(options) {
  noise::HandshakeConfig config;
  config.protocol_name = kLinkProtocolName;
  config.initiator = initiator;
  config.prologue = toBytes(kLinkPrologue);
  config.local_static = local_static;
  config.psks = {psk};
  config.fixed_ephemeral = options_.fixed_ephemeral_for_tests;
  auto hs = noise::HandshakeState::create(config);
  assert(hs.isOk() && "the link protocol name must parse");
  handshake_.emplace(std::move(hs).value());
}

SecureChannel::~SecureChannel() {
  *alive_ = false;
  sodium_memzero(outgoing_.data(), outgoing_.size());
  sodium_memzero(incoming_.data(), incoming_.size());
}

void SecureChannel::start() {
  handshake_timer_ = env_.newTimer([this] {
    fail(Status(Code::kTimeout, "handshake did not finish in time"));
  });
  handshake_timer_->start(options_.handshake_timeout);
  link_->start(this);
  if (initiator_) {
    Status st = sendHandshakeMessage();
    if (!st.isOk()) fail(st);
  }
}

Status SecureChannel::sendHandshakeMessage() {
  auto msg = handshake_->writeMessage({});
  if (!msg) return msg.status();
  MS_RETURN_IF_ERROR(link_->sendFrame(msg.value()));
  if (handshake_->isFinished()) becomeReady();
  return Status::ok();
}

void SecureChannel::onFrame(ByteView frame) {
  if (closing_) return;  // after a failure nothing more is read, even frames already queued
  if (state_ == State::kHandshake) handleHandshakeFrame(frame);
  else if (state_ == State::kReady) handleTransportFrame(frame);
}

void SecureChannel::handleHandshakeFrame(ByteView frame) {
  if (frame.size() > kMaxHandshakeFrame) {
    fail(tooLarge("handshake frame of " + std::to_string(frame.size()) + " bytes"));
    return;
  }
  auto payload = handshake_->readMessage(frame);
  if (!payload) {
    fail(Status(Code::kAuthFailed, "handshake: " + payload.status().message()));
    return;
  }
  if (handshake_->isFinished()) {
    becomeReady();
    return;
  }
  Status st = sendHandshakeMessage();
  if (!st.isOk()) fail(st);
}

void SecureChannel::becomeReady() {
  auto rs = handshake_->remoteStatic();
  assert(rs.has_value() && "XX always learns the remote static key");
  remote_static_ = *rs;
  auto ciphers = handshake_->splitForTransport();
  if (!ciphers) return fail(Status(Code::kInternal, "split: " + ciphers.status().message()));
  send_ = std::move(ciphers->send);
  recv_ = std::move(ciphers->recv);
  handshake_.reset();
  handshake_timer_.reset();
  state_ = State::kReady;
  handler_->onChannelReady(*this);
}

void SecureChannel::handleTransportFrame(ByteView frame) {
  auto plain = recv_.decryptWithAd({}, frame);
  if (!plain) {
    fail(Status(Code::kAuthFailed, "frame failed authentication: " + plain.status().message()));
    return;
  }
  if (++stats_.frames_received % options_.rekey_interval == 0) {
    recv_.rekey();
    ++stats_.rekeys;
  }
  ByteView rest = plain.value();
  if (rest.empty()) {
    fail(malformed("empty frame"));
    return;
  }
  std::shared_ptr<bool> alive = alive_;
  while (!rest.empty()) {
    if (rest.size() < kRecordHeaderSize) return fail(malformed("truncated record header"));
    uint8_t flags = rest[0];
    size_t len = getU16(rest.data() + 1);
    if ((flags & ~kRecordFin) != 0) return fail(malformed("reserved record flags set"));
    if (rest.size() - kRecordHeaderSize < len) return fail(malformed("record overruns frame"));
    if (incoming_.size() + len > options_.max_message_size)
      return fail(tooLarge("message exceeds " + std::to_string(options_.max_message_size) + " bytes"));
    ByteView body = rest.subspan(kRecordHeaderSize, len);
    rest = rest.subspan(kRecordHeaderSize + len);
    if ((flags & kRecordFin) && incoming_.empty()) {
      ++stats_.messages_received;
      handler_->onChannelMessage(*this, body);  // zero-copy for whole records
    } else {
      incoming_.insert(incoming_.end(), body.begin(), body.end());
      if (flags & kRecordFin) {
        Bytes message;
        message.swap(incoming_);
        ++stats_.messages_received;
        handler_->onChannelMessage(*this, message);
      }
    }
    if (!*alive || state_ != State::kReady || closing_) return;
  }
}

Status SecureChannel::sendMessage(ByteView message) {
  if (state_ == State::kClosed || closing_) return Status(Code::kClosed, "channel closed");
  if (state_ != State::kReady) return invalidArgument("channel not ready");
  if (message.size() > options_.max_message_size) return tooLarge("message too large");
  if (outgoing_.size() > options_.max_pending_bytes) return Status(Code::kBusy, "channel queue full");
  // Split into records; each record fits in one frame with its header.
  constexpr size_t kMaxRecordBody = kMaxFramePlaintext - kRecordHeaderSize;
  size_t offset = 0;
  do {
    size_t len = std::min(kMaxRecordBody, message.size() - offset);
    bool fin = offset + len == message.size();
    uint8_t header[kRecordHeaderSize] = {static_cast<uint8_t>(fin ? kRecordFin : 0)};
    putU16(header + 1, static_cast<uint16_t>(len));
    outgoing_.insert(outgoing_.end(), header, header + kRecordHeaderSize);
    outgoing_.insert(outgoing_.end(), message.begin() + static_cast<ptrdiff_t>(offset),
                     message.begin() + static_cast<ptrdiff_t>(offset + len));
    offset += len;
  } while (offset < message.size());
  ++stats_.messages_sent;
  scheduleFlush();
  return Status::ok();
}

void SecureChannel::scheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  env_.post([this, alive = alive_] {
    if (!*alive) return;
    flush_scheduled_ = false;
    flush();
  });
}

void SecureChannel::flush() {
  if (state_ != State::kReady) return;
  // Cut the record stream into frames at record boundaries; a record never exceeds a frame.
  // Stop when the link has no room: the rest waits for onLinkDrained (the cipher state must
  // only advance for frames the link accepts).
  size_t offset = 0;
  while (offset < outgoing_.size()) {
    size_t end = offset;
    while (end < outgoing_.size()) {
      size_t rec = kRecordHeaderSize + getU16(outgoing_.data() + end + 1);
      if (end + rec - offset > kMaxFramePlaintext) break;
      end += rec;
    }
    if (!link_->hasRoomFor(end - offset + kAeadTagSize)) break;
    auto cipher = send_.encryptWithAd({}, ByteView(outgoing_).subspan(offset, end - offset));
    if (!cipher) return fail(Status(Code::kInternal, "encrypt: " + cipher.status().message()));
    Status st = link_->sendFrame(cipher.value());
    if (!st.isOk()) return fail(st);
    if (++stats_.frames_sent % options_.rekey_interval == 0) {
      send_.rekey();
      ++stats_.rekeys;
    }
    offset = end;
  }
  sodium_memzero(outgoing_.data(), offset);
  outgoing_.erase(outgoing_.begin(), outgoing_.begin() + static_cast<ptrdiff_t>(offset));
}

void SecureChannel::onLinkDrained() {
  if (state_ != State::kReady) return;
  flush();
  if (outgoing_.size() <= options_.max_pending_bytes / 2) handler_->onChannelDrained(*this);
}

size_t SecureChannel::pendingBytes() const {
  return outgoing_.size() + (link_ ? link_->queuedBytes() : 0);
}

void SecureChannel::close(const Status& reason) {
  if (state_ == State::kClosed || closing_) return;
  closing_ = true;
  if (state_ == State::kReady && !outgoing_.empty()) flush();
  link_->close(reason);
}

void SecureChannel::onLinkClosed(const Status& reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  handshake_timer_.reset();
  handler_->onChannelClosed(*this, reason);
}

void SecureChannel::fail(const Status& reason) {
  if (state_ == State::kClosed || closing_) return;
  MS_LOG(kInfo, "channel") << "closing " << remoteAddress() << ": " << reason.toString();
  closing_ = true;
  outgoing_.clear();
  link_->close(reason);
}

}  // namespace meshslice
