#include "transport/secure_channel.h"

#include <sodium.h>

#include "base/log.h"

namespace meshslice {

const char* channelFailureName(ChannelFailure failure) {
  switch (failure) {
    case ChannelFailure::kNone: return "none";
    case ChannelFailure::kHandshakeTimeout: return "handshake-timeout";
    case ChannelFailure::kHandshakeOversized: return "handshake-oversized";
    case ChannelFailure::kHandshakeRejected: return "handshake-rejected";
    case ChannelFailure::kFrameRejected: return "frame-rejected";
    case ChannelFailure::kRecordMalformed: return "record-malformed";
    case ChannelFailure::kMessageTooLarge: return "message-too-large";
    case ChannelFailure::kSendFailed: return "send-failed";
  }
  return "unknown";
}

SecureChannel::SecureChannel(Env& env, std::unique_ptr<Link> link, bool initiator,
                             const KeyPair& local_static, const Key32& psk, ChannelHandler* handler,
                             SecureChannelOptions options)
    : env_(env),
      link_(std::move(link)),
      initiator_(initiator),
      handler_(handler),
      options_(options),
      incoming_(options.max_message_size) {
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
  outgoing_.clear();
}

void SecureChannel::start() {
  handshake_timer_ = env_.newTimer([this] {
    fail(ChannelFailure::kHandshakeTimeout, Status(Code::kTimeout, "handshake did not finish in time"));
  });
  handshake_timer_->start(options_.handshake_timeout);
  link_->start(this);
  if (initiator_) {
    Status st = sendHandshakeMessage();
    if (!st.isOk()) fail(ChannelFailure::kSendFailed, st);
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
    fail(ChannelFailure::kHandshakeOversized,
         tooLarge("handshake frame of " + std::to_string(frame.size()) + " bytes"));
    return;
  }
  auto payload = handshake_->readMessage(frame);
  if (!payload) {
    fail(ChannelFailure::kHandshakeRejected,
         Status(Code::kAuthFailed, "handshake: " + payload.status().message()));
    return;
  }
  if (handshake_->isFinished()) {
    becomeReady();
    return;
  }
  Status st = sendHandshakeMessage();
  if (!st.isOk()) fail(ChannelFailure::kSendFailed, st);
}

void SecureChannel::becomeReady() {
  auto rs = handshake_->remoteStatic();
  assert(rs.has_value() && "XX always learns the remote static key");
  remote_static_ = *rs;
  auto ciphers = handshake_->splitForTransport();
  if (!ciphers) {
    return fail(ChannelFailure::kSendFailed, Status(Code::kInternal, "split: " + ciphers.status().message()));
  }
  send_ = std::move(ciphers->send);
  recv_ = std::move(ciphers->recv);
  handshake_.reset();
  handshake_timer_.reset();
  state_ = State::kReady;
  handler_->onChannelReady(*this);
}

namespace {
// Frames are decrypted into one buffer per thread: records are handed on (or copied into a
// reassembly buffer) before handleTransportFrame returns, so no channel needs a 64 KiB buffer
// of its own and no frame costs an allocation. A frame decrypted while another one's messages
// are being handled on the same thread (a handler that makes a link deliver at once) gets a
// buffer of its own. The shared buffer keeps the last frame's plaintext until the next frame
// overwrites it; it is wiped when the thread ends.
struct PlainBuffer {
  Bytes bytes;
  bool in_use = false;
  ~PlainBuffer() { sodium_memzero(bytes.data(), bytes.size()); }
};
thread_local PlainBuffer t_plain;
}  // namespace

void SecureChannel::handleTransportFrame(ByteView frame) {
  Bytes own;
  Bytes* buffer = t_plain.in_use ? &own : &t_plain.bytes;
  if (buffer->size() < kMaxFrameBody) buffer->resize(kMaxFrameBody);
  const bool shared = buffer == &t_plain.bytes;
  if (shared) t_plain.in_use = true;
  struct Release {
    bool shared;
    ~Release() {
      if (shared) t_plain.in_use = false;
    }
  } release{shared};
  auto len = recv_.decryptInto({}, frame, *buffer);
  if (!len) {
    fail(ChannelFailure::kFrameRejected,
         Status(Code::kAuthFailed, "frame failed authentication: " + len.status().message()));
    return;
  }
  const ByteView plain(buffer->data(), *len);
  stats_.bytes_received += frame.size();
  if (++stats_.frames_received % options_.rekey_interval == 0) {
    recv_.rekey();
    ++stats_.rekeys;
  }
  std::shared_ptr<bool> alive = alive_;
  Status st = incoming_.feed(plain, [&](ByteView message) {
    ++stats_.messages_received;
    handler_->onChannelMessage(*this, message);
    return *alive && state_ == State::kReady && !closing_;
  });
  if (!own.empty()) sodium_memzero(own.data(), own.size());
  if (!*alive) return;
  if (!st.isOk()) {
    fail(st.code() == Code::kTooLarge ? ChannelFailure::kMessageTooLarge : ChannelFailure::kRecordMalformed, st);
  }
}

Status SecureChannel::sendMessage(ByteView message) { return sendMessageParts({&message, 1}); }

Status SecureChannel::sendMessageParts(std::span<const ByteView> parts) {
  if (state_ == State::kClosed || closing_) return Status(Code::kClosed, "channel closed");
  if (state_ != State::kReady) return invalidArgument("channel not ready");
  size_t size = 0;
  for (ByteView p : parts) size += p.size();
  if (size > options_.max_message_size) return tooLarge("message too large");
  if (outgoing_.pendingBytes() > options_.max_pending_bytes) return Status(Code::kBusy, "channel queue full");
  outgoing_.appendParts(parts);
  ++stats_.messages_sent;
  scheduleFlush();
  return Status::ok();
}

void SecureChannel::scheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // At the end of this loop turn: every message queued meanwhile shares the frames, and no
  // extra wake-up of the loop stands between sendMessage() and the socket write.
  env_.runAtTurnEnd([this, alive = alive_] {
    if (!*alive) return;
    flush_scheduled_ = false;
    flush();
  });
}

void SecureChannel::flush() {
  if (state_ != State::kReady) return;
  // Stop when the link has no room: the rest waits for onLinkDrained (the cipher state must
  // only advance for frames the link accepts, so each frame is encrypted in place only after
  // the link admitted it).
  while (!outgoing_.empty()) {
    ByteView frame = outgoing_.nextFrame();
    const size_t body = frame.size() + kAeadTagSize;
    if (!link_->hasRoomFor(body)) break;
    Status st = link_->sendFrameWith(body, [&](std::span<uint8_t> out) {
      return send_.encryptInto({}, frame, out);
    });
    if (!st.isOk()) return fail(ChannelFailure::kSendFailed, st);
    stats_.bytes_sent += body;
    if (++stats_.frames_sent % options_.rekey_interval == 0) {
      send_.rekey();
      ++stats_.rekeys;
    }
    outgoing_.consume(frame.size());
  }
}

void SecureChannel::onLinkDrained() {
  if (state_ != State::kReady) return;
  flush();
  if (outgoing_.pendingBytes() <= options_.max_pending_bytes / 2) handler_->onChannelDrained(*this);
}

size_t SecureChannel::pendingBytes() const {
  return outgoing_.pendingBytes() + (link_ ? link_->queuedBytes() : 0);
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

void SecureChannel::fail(ChannelFailure kind, const Status& reason) {
  if (state_ == State::kClosed || closing_) return;
  // A failed handshake is the mesh's to report (once a minute per host, MeshCore): debug here.
  if (state_ == State::kReady)
    MS_LOG(kInfo, "channel") << "closing " << remoteAddress() << " (" << channelFailureName(kind)
                             << "): " << reason.toString();
  else
    MS_LOG(kDebug, "channel") << "closing " << remoteAddress() << " (" << channelFailureName(kind)
                              << "): " << reason.toString();
  failure_ = kind;
  closing_ = true;
  outgoing_.clear();
  link_->close(reason);
}

}  // namespace meshslice
