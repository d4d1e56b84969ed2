// Bounded msgpack decoding for untrusted bytes. unpackBounded() is the only place our decoders
// call msgpack-cxx's unpacker: it applies explicit limits (depth, container entries, str and bin
// lengths, no ext), turns every msgpack exception into a Status and rejects trailing bytes. The
// typed readers below then pull fields out of the resulting object tree without throwing, so a
// decoder is a straight sequence of MS_RETURN_IF_ERROR(read...(...)).
//
// All functions are pure and thread-safe. Objects returned by unpackBounded() live as long as
// the object_handle (its zone owns every str/bin/array the tree points into).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

// Structural limits for every msgpack document we accept. Field-level limits (a name's length,
// a payload's size) are tighter and checked by the typed readers.
inline constexpr size_t kMsgpackMaxDepth = 8;          // nested non-empty arrays/maps
inline constexpr size_t kMsgpackMaxContainer = 4096;   // entries of one array or map
inline constexpr size_t kMsgpackMaxStr = 4096;         // bytes of one str

// Decodes exactly one msgpack object from `bytes`. `max_bin` bounds every bin in the document.
// Errors: kMalformed (invalid msgpack, truncated input, trailing bytes, an ext value) or
// kTooLarge (a depth, container, str or bin limit). Never throws. The returned handle owns
// copies of all str/bin data, so `bytes` may be freed afterwards.
Result<msgpack::object_handle> unpackBounded(ByteView bytes, size_t max_bin);

// Typed readers. `field` names the field in error messages ("hello.name"). On error `out` is
// left unspecified. All return kMalformed for a wrong type and kTooLarge for a length limit.

// An unsigned integer <= max.
Status readUint(const msgpack::object& o, uint64_t max, uint64_t& out, std::string_view field);
// A signed 64-bit integer (positive or negative msgpack int).
Status readInt(const msgpack::object& o, int64_t& out, std::string_view field);
// A str of at most max_len bytes that is valid UTF-8.
Status readStr(const msgpack::object& o, size_t max_len, std::string& out, std::string_view field);
// A bin of at most max_len bytes.
Status readBin(const msgpack::object& o, size_t max_len, Bytes& out, std::string_view field);
// A bin of exactly out.size() bytes, copied into out.
Status readBinExact(const msgpack::object& o, std::span<uint8_t> out, std::string_view field);
// An array with min_size..max_size elements. `out` views the elements inside `o`.
Status readArray(const msgpack::object& o, size_t min_size, size_t max_size,
                 std::span<const msgpack::object>& out, std::string_view field);
// An array of exactly `size` elements.
inline Status readArrayExact(const msgpack::object& o, size_t size,
                             std::span<const msgpack::object>& out, std::string_view field) {
  return readArray(o, size, size, out, field);
}

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool isValidUtf8(std::string_view s);

}  // namespace meshslice
