#include "store/synced_store.h"

#include <sodium.h>

#include <cstdio>

namespace meshslice {
namespace detail {

Result<msgpack::object_handle> unpackSliceData(ByteView data) {
  if (data.size() > kMaxSliceData) return tooLarge("slice data over the slice limit");
  const msgpack::unpack_limit limits(kSliceDataMaxContainer, kSliceDataMaxContainer, kMaxSliceData,
                                     kMaxSliceData, kMaxSliceData, kSliceDataMaxDepth);
  size_t offset = 0;
  try {
    msgpack::object_handle handle = msgpack::unpack(reinterpret_cast<const char*>(data.data()),
                                                    data.size(), offset, nullptr, nullptr, limits);
    if (offset != data.size()) {
      return malformed("msgpack: " + std::to_string(data.size() - offset) + " trailing bytes");
    }
    return handle;
  } catch (const msgpack::depth_size_overflow& e) {
    return tooLarge(std::string("msgpack: nesting too deep: ") + e.what());
  } catch (const msgpack::size_overflow& e) {
    return tooLarge(std::string("msgpack: limit exceeded: ") + e.what());
  } catch (const msgpack::insufficient_bytes&) {
    return malformed("msgpack: truncated input");
  } catch (const std::bad_alloc&) {
    return tooLarge("msgpack: out of memory while decoding");
  } catch (const std::exception& e) {
    return malformed(std::string("msgpack: ") + e.what());
  }
}

namespace {
// Type letters and container sizes, depth first: the shape, not the values.
void appendShape(const msgpack::object& o, std::string& out) {
  switch (o.type) {
    case msgpack::type::NIL: out += 'n'; break;
    case msgpack::type::BOOLEAN: out += 'b'; break;
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: out += 'i'; break;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: out += 'f'; break;
    case msgpack::type::STR: out += 's'; break;
    case msgpack::type::BIN: out += 'x'; break;
    case msgpack::type::EXT: out += 'e'; break;
    case msgpack::type::ARRAY:
      out += "[" + std::to_string(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) appendShape(o.via.array.ptr[i], out);
      out += ']';
      break;
    case msgpack::type::MAP:
      out += "{" + std::to_string(o.via.map.size);
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        appendShape(o.via.map.ptr[i].key, out);
        appendShape(o.via.map.ptr[i].val, out);
      }
      out += '}';
      break;
  }
}
}  // namespace

std::string shapeFingerprint(std::string_view shape) {
  uint8_t hash[8];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const uint8_t*>(shape.data()), shape.size(), nullptr, 0);
  std::string out = "shape:";
  char hex[3];
  for (uint8_t b : hash) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    out += hex;
  }
  return out;
}

std::string msgpackShape(ByteView data) {
  auto handle = unpackSliceData(data);
  if (!handle) return {};
  std::string shape;
  appendShape(handle->get(), shape);
  return shapeFingerprint(shape);
}

}  // namespace detail
}  // namespace meshslice
