// Splits a TCP byte stream into frames: each frame is a big-endian u16 body length followed by
// the body. Pure: no I/O. Bounded: it never holds more than one frame's bytes.
#pragma once

#include <functional>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

constexpr size_t kFrameHeaderSize = 2;

class FrameDecoder {
 public:
  // Frames longer than `max_body` are rejected (kTooLarge) when their header arrives.
  explicit FrameDecoder(size_t max_body) : max_body_(max_body) {}

  void setMaxBody(size_t max_body) { max_body_ = max_body; }
  // Feeds stream bytes. Calls on_frame for every complete frame, in order. Stops at the first
  // error, or when on_frame returns false (the consumer closed); the decoder is then unusable.
  Status feed(ByteView bytes, const std::function<bool(ByteView)>& on_frame);
  // Bytes of an incomplete frame held back.
  size_t buffered() const { return buffer_.size(); }

 private:
  size_t max_body_;
  Bytes buffer_;
  bool failed_ = false;
};

// Appends the header and body of one frame to `out`.
void appendFrame(Bytes& out, ByteView body);

}  // namespace meshslice
