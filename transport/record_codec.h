// The record layer inside encrypted frames (docs/PROTOCOL.md §3), as pure code:
//
//   record = flags:u8 | length:u16be | bytes[length]     flags bit 0 = FIN
//
// RecordWriter turns messages into records and cuts them into frame plaintexts;
// RecordReader reassembles messages from frame plaintexts, bounded by a maximum message size.
#pragma once

#include <functional>
#include <span>

#include "base/bytes.h"
#include "base/status.h"
#include "transport/link.h"

namespace meshslice {

constexpr size_t kRecordHeaderSize = 3;
constexpr uint8_t kRecordFin = 0x01;
constexpr size_t kAeadTagSize = 16;
constexpr size_t kMaxFramePlaintext = kMaxFrameBody - kAeadTagSize;
constexpr size_t kMaxRecordBody = kMaxFramePlaintext - kRecordHeaderSize;

class RecordWriter {
 public:
  // Appends `message` as one or more records. The first record of a long message fills what
  // is left of the frame being built, so frames leave no gaps.
  void append(ByteView message) { appendParts({&message, 1}); }
  // The same for the message that is the concatenation of `parts` (no copy of them joined).
  void appendParts(std::span<const ByteView> parts);
  ~RecordWriter() { clear(); }
  bool empty() const { return pending_.size() == offset_; }
  size_t pendingBytes() const { return pending_.size() - offset_; }
  // The next frame plaintext: as many whole records as fit in kMaxFramePlaintext. Valid until
  // consume(). Empty when nothing is pending.
  ByteView nextFrame() const;
  // Drops the bytes nextFrame() returned (after they were encrypted and sent).
  void consume(size_t bytes);
  // Wipes and drops everything pending. (Sent bytes are not wiped one frame at a time: the
  // buffer is reused and overwritten; clear() and the destructor wipe all of it.)
  void clear();

 private:
  Bytes pending_;
  size_t offset_ = 0;       // bytes of pending_ already sent
  size_t frame_start_ = 0;  // where the frame being filled starts in pending_
};

class RecordReader {
 public:
  explicit RecordReader(size_t max_message_size) : max_message_size_(max_message_size) {}
  ~RecordReader();
  // Parses one frame plaintext; calls on_message for each completed message, in order. Stops at
  // the first error or when on_message returns false. Errors: kMalformed (empty frame, truncated
  // record, reserved flags), kTooLarge (message over the limit).
  Status feed(ByteView plaintext, const std::function<bool(ByteView)>& on_message);

 private:
  size_t max_message_size_;
  Bytes partial_;
};

}  // namespace meshslice
