// A Link over a connected libuv TCP handle: u16-length-prefixed frames, a write queue bounded
// in bytes (sendFrame returns kBusy past the limit and onLinkDrained follows once it drains
// below half), and a bounded flush on close.
#pragma once

#include <uv.h>

#include <memory>
#include <algorithm>

#include "base/event_loop.h"
#include "transport/frame_decoder.h"
#include "transport/link.h"

namespace meshslice {

struct TcpLinkOptions {
  // Bytes queued in user space before sendFrame pushes back with kBusy.
  size_t write_queue_limit = 4 * 1024 * 1024;
  // How long close() waits for queued bytes to reach the kernel before dropping them.
  uint64_t close_linger_ms = 1000;
};

// Bytes of one read: the read buffer, one per loop thread (TcpLink::onAlloc). Several frames
// (65537 bytes on the wire at most) per read, so that most frames are decoded in place: with
// a 64 KiB buffer every full-size frame straddled two reads and was copied.
inline constexpr size_t kReadBufferSize = 256 * 1024;
// Full reads one link may take in a row before it yields the loop turn to others: libuv reads
// a ready socket up to 32 times per turn, so a peer that keeps our socket full (a flood, a bulk
// stream) would otherwise delay every other link by the time it takes to decrypt and apply
// 8 MiB. Past the budget (256 KiB) the link stops reading and resumes at the end of the turn,
// after the other ready sockets had theirs.
inline constexpr int kFullReadsPerTurn = 1;

// Framed bytes waiting for (or in) a write: the first `size` bytes of `bytes`. The vector is
// grown geometrically and never shrunk while in use, so a frame encrypted straight into it costs
// no zero-fill (resizing the vector per frame memset every frame before it was overwritten) and
// no reallocation once the buffer has the size of a write.
struct WriteBuffer {
  Bytes bytes;
  size_t size = 0;
  // `n` more bytes at the end; returns where they start.
  uint8_t* extend(size_t n) {
    if (bytes.size() - size < n) bytes.resize(std::max(size + n, 2 * bytes.size()));
    uint8_t* at = bytes.data() + size;
    size += n;
    return at;
  }
  bool empty() const { return size == 0; }
};

class TcpLink final : public Link {
 public:
  // Takes ownership of an initialized, connected TCP handle.
  TcpLink(EventLoop& loop, std::unique_ptr<UvHandle<uv_tcp_t>> handle, TcpLinkOptions options);
  ~TcpLink() override;

  void start(LinkHandler* handler) override;
  Status sendFrame(ByteView body) override;
  // Fills the frame straight in the pending write buffer (no temporary).
  Status sendFrameWith(size_t body_size, const FrameFiller& fill) override;
  void close(const Status& reason) override;
  size_t queuedBytes() const override { return pending_.size + inflight_bytes_; }
  // A "no" owes an onLinkDrained, as a refused sendFrame does: a sender that stops at
  // hasRoomFor() (SecureChannel) must hear when to go on.
  bool hasRoomFor(size_t body_size) const override {
    const bool room = open_ && !closing_ && queuedBytes() + kFrameHeaderSize + body_size <= options_.write_queue_limit;
    if (!room && open_ && !closing_) busy_ = true;
    return room;
  }
  std::string remoteAddress() const override { return remote_; }
  bool isOpen() const override { return open_; }
  // The kernel's smoothed RTT of the socket (TCP_INFO tcpi_rtt).
  int64_t roundTripMicros() const override;

 private:
  struct WriteReq;
  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  // The checks sendFrame and sendFrameWith share: open, size, queue room.
  Status admit(size_t body_size);
  void flush();
  void startReading();
  // After kFullReadsPerTurn full reads: stop reading until the end of this loop turn.
  void yieldTurn();
  void fail(const Status& reason);
  void finishClose();

  EventLoop& loop_;
  std::unique_ptr<UvHandle<uv_tcp_t>> handle_;
  UvHandle<uv_timer_t> linger_timer_;
  // Releases the write buffers once the link stayed idle for kIdleBufferReleaseMs: a stream that
  // pauses between bursts (a sender refilling its window every few ms) keeps them.
  UvHandle<uv_timer_t> idle_timer_;
  TcpLinkOptions options_;
  LinkHandler* handler_ = nullptr;
  FrameDecoder decoder_{kMaxFrameBody};
  WriteBuffer pending_;  // framed bytes not yet handed to uv_write
  // While streaming, the buffer of the last finished write, emptied: the next pending_ reuses
  // its capacity, so steady streaming neither reallocates nor page-faults fresh memory per
  // write. Released when the link goes idle.
  WriteBuffer spare_;
  void releaseIdleBuffers();
  size_t inflight_bytes_ = 0;
  bool open_ = true;
  bool closing_ = false;  // close() called; flushing
  int full_reads_ = 0;    // full reads in a row, this turn
  mutable bool busy_ = false;  // a sendFrame or hasRoomFor said no; owe an onLinkDrained
  Status close_reason_;
  std::string remote_;
  // Lets tasks posted to the loop know whether this link still exists.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshslice
