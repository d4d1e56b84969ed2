#include "transport/record_codec.h"

#include <sodium.h>

#include <string>

namespace meshslice {

// A chunk shorter than this is not worth a record of its own: start a new frame instead.
constexpr size_t kMinChunk = 256;
// A reassembly buffer up to this size is kept for the next long message; larger ones (rare,
// up to the message limit) are freed so an idle link does not hold them.
constexpr size_t kMaxReusedMessageBuffer = 256 * 1024;

void RecordWriter::appendParts(std::span<const ByteView> parts) {
  size_t total = 0;
  for (ByteView p : parts) total += p.size();
  size_t offset = 0, part = 0, in_part = 0;
  do {
    size_t fill = pending_.size() - frame_start_;
    size_t room = kMaxFramePlaintext - fill;
    size_t rest = total - offset;
    if (room < kRecordHeaderSize + std::min(rest, kMinChunk)) {
      frame_start_ = pending_.size();  // this frame is full enough; the record starts a new one
      room = kMaxFramePlaintext;
    }
    size_t len = std::min(room - kRecordHeaderSize, rest);
    bool fin = offset + len == total;
    uint8_t header[kRecordHeaderSize] = {static_cast<uint8_t>(fin ? kRecordFin : 0)};
    putU16(header + 1, static_cast<uint16_t>(len));
    pending_.insert(pending_.end(), header, header + kRecordHeaderSize);
    for (size_t left = len; left > 0;) {
      const ByteView p = parts[part];
      const size_t take = std::min(left, p.size() - in_part);
      pending_.insert(pending_.end(), p.begin() + static_cast<ptrdiff_t>(in_part),
                      p.begin() + static_cast<ptrdiff_t>(in_part + take));
      in_part += take;
      left -= take;
      if (in_part == p.size()) ++part, in_part = 0;
    }
    offset += len;
  } while (offset < total);
}

ByteView RecordWriter::nextFrame() const {
  size_t end = offset_;
  while (end < pending_.size()) {
    size_t rec = kRecordHeaderSize + getU16(pending_.data() + end + 1);
    if (end + rec - offset_ > kMaxFramePlaintext) break;
    end += rec;
  }
  return ByteView(pending_).subspan(offset_, end - offset_);
}

void RecordWriter::consume(size_t bytes) {
  offset_ += bytes;
  // A sent frame is closed: later records start a new one.
  if (offset_ > frame_start_) frame_start_ = pending_.size();
  // Compact when everything was sent, or when the sent prefix is both large and at least half
  // of the buffer: moving the unsent rest then costs no more than what was sent (amortized
  // O(1) per byte, where compacting after every 256 KiB made a long queue quadratic).
  if (offset_ == pending_.size() || (offset_ > 256 * 1024 && offset_ * 2 >= pending_.size())) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(offset_));
    frame_start_ -= offset_;
    offset_ = 0;
  }
}

void RecordWriter::clear() {
  pending_.resize(pending_.capacity());  // zero-fills past the end: moved-away bytes are there
  sodium_memzero(pending_.data(), pending_.size());
  pending_.clear();
  offset_ = 0;
  frame_start_ = 0;
}

RecordReader::~RecordReader() {
  partial_.resize(partial_.capacity());  // a reused buffer's old message lies past its size
  sodium_memzero(partial_.data(), partial_.size());
}

Status RecordReader::feed(ByteView rest, const std::function<bool(ByteView)>& on_message) {
  if (rest.empty()) return malformed("empty frame");
  while (!rest.empty()) {
    if (rest.size() < kRecordHeaderSize) return malformed("truncated record header");
    uint8_t flags = rest[0];
    size_t len = getU16(rest.data() + 1);
    if ((flags & ~kRecordFin) != 0) return malformed("reserved record flags set");
    if (rest.size() - kRecordHeaderSize < len) return malformed("record overruns frame");
    if (partial_.size() + len > max_message_size_)
      return tooLarge("message exceeds " + std::to_string(max_message_size_) + " bytes");
    ByteView body = rest.subspan(kRecordHeaderSize, len);
    rest = rest.subspan(kRecordHeaderSize + len);
    bool go_on = true;
    if ((flags & kRecordFin) && partial_.empty()) {
      go_on = on_message(body);  // zero-copy for whole records
    } else {
      partial_.insert(partial_.end(), body.begin(), body.end());
      if (flags & kRecordFin) {
        // The wiped buffer goes back to partial_: the next long message reuses its capacity.
        Bytes message;
        message.swap(partial_);
        go_on = on_message(message);
        // Kept for the next long message (the next one overwrites it; the destructor wipes
        // it), or wiped before it is freed.
        if (partial_.empty() && message.capacity() > partial_.capacity() &&
            message.capacity() <= kMaxReusedMessageBuffer) {
          message.clear();
          partial_.swap(message);
        } else {
          sodium_memzero(message.data(), message.size());
        }
      }
    }
    if (!go_on) return Status::ok();
  }
  return Status::ok();
}

}  // namespace meshslice
