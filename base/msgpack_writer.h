// Encoders pack straight into a Bytes buffer with msgpack-cxx's packer, which always picks the
// smallest msgpack form for ints, strs, bins and arrays: our encodings are canonical, so
// golden vectors stay byte-stable.
//
//   Bytes out;
//   MsgpackWriter w(out);
//   w.packer().pack_array(2); w.packer().pack_uint64(1); packBin(w.packer(), data);
#pragma once

#include <cstddef>
#include <string_view>

#include <msgpack.hpp>

#include "base/bytes.h"

namespace meshslice {

// Appends to a Bytes it does not own; `out` must outlive the writer.
class MsgpackWriter {
 public:
  explicit MsgpackWriter(Bytes& out) : out_(out), packer_(*this) {}
  MsgpackWriter(const MsgpackWriter&) = delete;
  MsgpackWriter& operator=(const MsgpackWriter&) = delete;

  msgpack::packer<MsgpackWriter>& packer() { return packer_; }

  // The packer's stream interface.
  void write(const char* data, size_t size) {
    out_.insert(out_.end(), reinterpret_cast<const uint8_t*>(data),
                reinterpret_cast<const uint8_t*>(data) + size);
  }

  void packStr(std::string_view s) {
    packer_.pack_str(static_cast<uint32_t>(s.size()));
    packer_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void packBin(ByteView b) {
    packer_.pack_bin(static_cast<uint32_t>(b.size()));
    packer_.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
  }

 private:
  Bytes& out_;
  msgpack::packer<MsgpackWriter> packer_;
};

}  // namespace meshslice
