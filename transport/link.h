// A Link is one connection carrying frames: byte strings of at most kMaxFrameBody bytes, in
// order, reliably, until it closes. TCP links length-prefix them; memory links pass them as
// they are. Everything above (Noise, chunking, envelopes) sees only frames.
//
// Threading: a Link and its handler are used only on the loop thread of the transport that
// made it. Lifetime: the owner of the unique_ptr<Link> owns it; destroying a Link closes it
// without calling the handler.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

// Largest frame body: one Noise message (Noise spec §3) and the reach of the u16 prefix.
constexpr size_t kMaxFrameBody = 65535;

class LinkHandler {
 public:
  // One complete frame. The view is valid only during the call.
  virtual void onFrame(ByteView frame) = 0;
  // The link closed: by the peer, an error, or close(). Called exactly once, never from
  // inside a call the owner made on the link (always on a later loop turn).
  virtual void onLinkClosed(const Status& reason) = 0;
  // The write queue drained below its low-water mark after a send returned kBusy or
  // hasRoomFor() returned false.
  virtual void onLinkDrained() {}

 protected:
  ~LinkHandler() = default;
};

class Link {
 public:
  virtual ~Link() = default;
  // Starts delivering frames to `handler`, which must stay valid until onLinkClosed or until
  // the link is destroyed.
  virtual void start(LinkHandler* handler) = 0;
  // Queues one frame (copied). Errors: kTooLarge (body > kMaxFrameBody), kBusy (the write
  // queue would pass its byte limit: wait for onLinkDrained), kClosed.
  virtual Status sendFrame(ByteView body) = 0;
  // Writes a frame's body in place: `fill` gets exactly `body_size` writable bytes inside the
  // link's own write buffer (an encrypting sender saves a copy and an allocation per frame).
  // `fill` runs at most once, inside this call, and only after the frame was accepted (open,
  // size, queue room: errors as sendFrame, checked first); if it fails the frame is dropped and
  // its Status returned. This default fills a temporary and calls sendFrame.
  using FrameFiller = std::function<Status(std::span<uint8_t> body)>;
  virtual Status sendFrameWith(size_t body_size, const FrameFiller& fill);
  // Sends what is queued, then closes. onLinkClosed(reason) follows on a later turn.
  virtual void close(const Status& reason) = 0;
  // Bytes accepted by sendFrame and not yet handed to the kernel (or peer).
  virtual size_t queuedBytes() const = 0;
  // Whether sendFrame would accept a frame of `body_size` bytes now (queue room, open). On an
  // open link, false owes the handler an onLinkDrained once the queue drains.
  virtual bool hasRoomFor(size_t body_size) const = 0;
  virtual std::string remoteAddress() const = 0;
  virtual bool isOpen() const = 0;
  // The transport's smoothed round-trip time in microseconds, or -1 if it has none (memory
  // links, no sample yet). For display and metrics only.
  virtual int64_t roundTripMicros() const { return -1; }
};

inline Status Link::sendFrameWith(size_t body_size, const FrameFiller& fill) {
  if (!isOpen()) return Status(Code::kClosed, "link closed");
  if (body_size > kMaxFrameBody) return tooLarge("frame body over 65535 bytes");
  if (!hasRoomFor(body_size)) return Status(Code::kBusy, "write queue full");
  Bytes body(body_size);
  MS_RETURN_IF_ERROR(fill(body));
  return sendFrame(body);
}

using AcceptFn = std::function<void(std::unique_ptr<Link>)>;
using ConnectFn = std::function<void(Result<std::unique_ptr<Link>>)>;

// Makes links. Used only on its loop thread.
class Transport {
 public:
  virtual ~Transport() = default;
  // Starts accepting at `address` ("host:port" for TCP; port 0 picks one). Returns the address
  // actually bound. Accepted links arrive through `on_accept`.
  virtual Result<std::string> listen(const std::string& address, AcceptFn on_accept) = 0;
  // Connects to `address`. `done` runs once, on a later turn, with the link or the reason.
  // If connect() fails immediately it returns the error and `done` never runs.
  virtual Status connect(const std::string& address, ConnectFn done) = 0;
  // Stops listening and abandons pending connects (their callbacks never run). Links already
  // handed out are unaffected.
  virtual void stop() = 0;
};

}  // namespace meshslice
