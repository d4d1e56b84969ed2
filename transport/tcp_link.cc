#include "transport/tcp_link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/log.h"
#include "transport/address.h"

namespace meshslice {


// How long an idle link keeps its write buffers.
constexpr uint64_t kIdleBufferReleaseMs = 50;

struct TcpLink::WriteReq {
  uv_write_t req;
  WriteBuffer data;
};

TcpLink::TcpLink(EventLoop& loop, std::unique_ptr<UvHandle<uv_tcp_t>> handle, TcpLinkOptions options)
    : loop_(loop), handle_(std::move(handle)), options_(options) {
  handle_->get()->data = this;
  uv_timer_init(loop_.uv(), linger_timer_.get());
  linger_timer_.markInitialized(this);
  uv_timer_init(loop_.uv(), idle_timer_.get());
  idle_timer_.markInitialized(this);
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(handle_->get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    remote_ = formatSocketAddress(reinterpret_cast<sockaddr*>(&ss));
  uv_tcp_nodelay(handle_->get(), 1);
}

TcpLink::~TcpLink() { *alive_ = false; }

void TcpLink::start(LinkHandler* handler) {
  handler_ = handler;
  startReading();
}

void TcpLink::startReading() {
  int rc = uv_read_start(handle_->stream(), &TcpLink::onAlloc, &TcpLink::onRead);
  if (rc != 0) fail(ioError(std::string("read start: ") + uv_strerror(rc)));
}

// One read buffer per thread, shared by every link that thread's loop runs: onRead consumes
// all of it before returning (the frame decoder copies a partial frame) and libuv never nests
// reads, so links need no buffer of their own. It holds only ciphertext. An idle link thus
// costs no 64 KiB of resident memory.
void TcpLink::onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = ownerOf<TcpLink>(h);
  if (!self) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  static thread_local Bytes shared(kReadBufferSize);
  *buf = uv_buf_init(reinterpret_cast<char*>(shared.data()), static_cast<unsigned>(shared.size()));
}

void TcpLink::onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = ownerOf<TcpLink>(s);
  if (!self || !self->open_ || nread == 0) return;
  if (nread < 0) {
    self->fail(nread == UV_EOF ? Status(Code::kClosed, "peer closed the connection")
                               : ioError(std::string("read: ") + uv_strerror(static_cast<int>(nread))));
    return;
  }
  ByteView bytes(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread));
  Status st = self->decoder_.feed(bytes, [self](ByteView frame) {
    self->handler_->onFrame(frame);
    return self->open_ && !self->closing_;  // the handler may have closed us
  });
  if (!st.isOk()) {
    self->fail(st);
    return;
  }
  // A short read drained the socket; a full one means more is waiting (libuv reads again).
  self->full_reads_ = static_cast<size_t>(nread) == buf->len ? self->full_reads_ + 1 : 0;
  if (self->full_reads_ >= kFullReadsPerTurn && self->open_ && !self->closing_) self->yieldTurn();
}

void TcpLink::yieldTurn() {
  full_reads_ = 0;
  uv_read_stop(handle_->stream());
  loop_.runAtTurnEnd([alive = alive_, this] {
    if (*alive && open_ && !closing_) startReading();
  });
}

Status TcpLink::admit(size_t body_size) {
  if (!open_ || closing_) return Status(Code::kClosed, "link closed");
  if (body_size > kMaxFrameBody) return tooLarge("frame body over 65535 bytes");
  if (!hasRoomFor(body_size)) return Status(Code::kBusy, "write queue full");  // hasRoomFor owes the drain
  return Status::ok();
}

Status TcpLink::sendFrame(ByteView body) {
  MS_RETURN_IF_ERROR(admit(body.size()));
  uint8_t* at = pending_.extend(kFrameHeaderSize + body.size());
  putU16(at, static_cast<uint16_t>(body.size()));
  std::copy(body.begin(), body.end(), at + kFrameHeaderSize);
  if (inflight_bytes_ == 0) flush();
  return Status::ok();
}

Status TcpLink::sendFrameWith(size_t body_size, const FrameFiller& fill) {
  MS_RETURN_IF_ERROR(admit(body_size));
  const size_t before = pending_.size;
  uint8_t* at = pending_.extend(kFrameHeaderSize + body_size);
  putU16(at, static_cast<uint16_t>(body_size));
  Status st = fill(std::span<uint8_t>(at + kFrameHeaderSize, body_size));
  if (!st.isOk()) {
    pending_.size = before;
    return st;
  }
  if (inflight_bytes_ == 0) flush();
  return Status::ok();
}

void TcpLink::flush() {
  if (pending_.empty() || !open_) return;
  auto* w = new WriteReq;
  std::swap(w->data, pending_);
  std::swap(pending_, spare_);  // empty; keeps the capacity of an earlier write's buffer
  inflight_bytes_ = w->data.size;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->data.bytes.data()), static_cast<unsigned>(w->data.size));
  int rc = uv_write(&w->req, handle_->stream(), &buf, 1, &TcpLink::onWrite);
  if (rc != 0) {
    delete w;
    inflight_bytes_ = 0;
    fail(ioError(std::string("write: ") + uv_strerror(rc)));
  }
}

void TcpLink::onWrite(uv_write_t* req, int status) {
  std::unique_ptr<WriteReq> w(reinterpret_cast<WriteReq*>(req));
  auto* self = ownerOf<TcpLink>(req->handle);
  if (!self) return;  // the link is gone; the buffer dies with w
  self->inflight_bytes_ = 0;
  if (w->data.bytes.size() > self->spare_.bytes.size()) {
    w->data.size = 0;
    std::swap(self->spare_, w->data);
  }
  if (self->pending_.empty()) {
    // Idle: soon give the buffers back, an idle link holds no write memory.
    uv_timer_start(self->idle_timer_.get(), [](uv_timer_t* t) {
      if (auto* link = ownerOf<TcpLink>(t)) link->releaseIdleBuffers();
    }, kIdleBufferReleaseMs, 0);
  }
  if (status != 0) {
    self->fail(ioError(std::string("write: ") + uv_strerror(status)));
    return;
  }
  if (!self->pending_.empty()) {
    self->flush();
  } else if (self->closing_) {
    self->finishClose();
    return;
  }
  if (self->busy_ && self->queuedBytes() <= self->options_.write_queue_limit / 2) {
    self->busy_ = false;
    if (self->handler_ && self->open_) self->handler_->onLinkDrained();
  }
}

void TcpLink::releaseIdleBuffers() {
  if (!pending_.empty() || inflight_bytes_ > 0) return;
  pending_ = WriteBuffer();
  spare_ = WriteBuffer();
}

void TcpLink::close(const Status& reason) {
  if (!open_ || closing_) return;
  closing_ = true;
  close_reason_ = reason;
  uv_read_stop(handle_->stream());
  if (queuedBytes() == 0) {
    finishClose();
    return;
  }
  uv_timer_start(linger_timer_.get(), [](uv_timer_t* t) {
    if (auto* self = ownerOf<TcpLink>(t)) self->finishClose();
  }, options_.close_linger_ms, 0);
}

void TcpLink::fail(const Status& reason) {
  if (!open_) return;
  if (!closing_) close_reason_ = reason;
  finishClose();
}

void TcpLink::finishClose() {
  if (!open_) return;
  open_ = false;
  pending_ = WriteBuffer();
  spare_ = WriteBuffer();
  uv_timer_stop(linger_timer_.get());
  uv_timer_stop(idle_timer_.get());
  handle_->close();  // cancels in-flight writes; their callbacks see no owner
  inflight_bytes_ = 0;
  if (!handler_) return;
  loop_.post([alive = alive_, this, reason = close_reason_] {
    if (*alive && handler_) handler_->onLinkClosed(reason);
  });
}

int64_t TcpLink::roundTripMicros() const {
  uv_os_fd_t fd;
  if (!handle_ || !handle_->get() || uv_fileno(handle_->handle(), &fd) != 0) return -1;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || info.tcpi_rtt == 0) return -1;
  return info.tcpi_rtt;
}

}  // namespace meshslice
