#include "transport/frame_decoder.h"

#include <string>

namespace meshslice {

void appendFrame(Bytes& out, ByteView body) {
  size_t at = out.size();
  out.resize(at + kFrameHeaderSize + body.size());
  putU16(out.data() + at, static_cast<uint16_t>(body.size()));
  std::copy(body.begin(), body.end(), out.begin() + static_cast<ptrdiff_t>(at + kFrameHeaderSize));
}

Status FrameDecoder::feed(ByteView bytes, const std::function<bool(ByteView)>& on_frame) {
  if (failed_) return Status(Code::kClosed, "frame decoder already failed");
  // Fast path: decode straight from `bytes` while nothing is buffered.
  while (!bytes.empty()) {
    if (buffer_.empty() && bytes.size() >= kFrameHeaderSize) {
      size_t len = getU16(bytes.data());
      if (len > max_body_) {
        failed_ = true;
        return tooLarge("frame of " + std::to_string(len) + " bytes exceeds limit " +
                        std::to_string(max_body_));
      }
      if (bytes.size() >= kFrameHeaderSize + len) {
        if (!on_frame(bytes.subspan(kFrameHeaderSize, len))) {
          failed_ = true;
          return Status::ok();
        }
        bytes = bytes.subspan(kFrameHeaderSize + len);
        continue;
      }
    }
    // Slow path: accumulate a partial header or body.
    size_t need = kFrameHeaderSize;
    if (buffer_.size() >= kFrameHeaderSize) need += getU16(buffer_.data());
    size_t take = std::min(need - buffer_.size(), bytes.size());
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    if (buffer_.size() == kFrameHeaderSize) {
      size_t len = getU16(buffer_.data());
      if (len > max_body_) {
        failed_ = true;
        return tooLarge("frame of " + std::to_string(len) + " bytes exceeds limit " +
                        std::to_string(max_body_));
      }
    }
    if (buffer_.size() >= kFrameHeaderSize && buffer_.size() == kFrameHeaderSize + getU16(buffer_.data())) {
      Bytes frame;
      frame.swap(buffer_);
      if (!on_frame(ByteView(frame).subspan(kFrameHeaderSize))) {
        failed_ = true;
        return Status::ok();
      }
    }
  }
  return Status::ok();
}

}  // namespace meshslice
