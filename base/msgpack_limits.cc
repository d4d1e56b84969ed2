#include "base/msgpack_limits.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <new>

namespace meshslice {

namespace {

std::string fieldError(std::string_view field, std::string_view what) {
  std::string m(field);
  m += ": ";
  m += what;
  return m;
}

const char* typeName(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "bool";
    case msgpack::type::POSITIVE_INTEGER: return "uint";
    case msgpack::type::NEGATIVE_INTEGER: return "int";
    case msgpack::type::FLOAT32: return "float32";
    case msgpack::type::FLOAT64: return "float64";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown";
}

Status wrongType(const msgpack::object& o, std::string_view field, std::string_view expected) {
  std::string what = "expected ";
  what += expected;
  what += ", got ";
  what += typeName(o);
  return malformed(fieldError(field, what));
}

}  // namespace

Result<msgpack::object_handle> unpackBounded(ByteView bytes, size_t max_bin) {
  const msgpack::unpack_limit limits(kMsgpackMaxContainer, kMsgpackMaxContainer, kMsgpackMaxStr,
                                     max_bin, /*ext=*/0, kMsgpackMaxDepth);
  size_t offset = 0;
  try {
    msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset,
                        /*f=*/nullptr, /*user_data=*/nullptr, limits);
    if (offset != bytes.size()) {
      return malformed("msgpack: " + std::to_string(bytes.size() - offset) +
                       " trailing bytes after the object");
    }
    return handle;
  } catch (const msgpack::depth_size_overflow&) {
    return tooLarge("msgpack: nesting deeper than " + std::to_string(kMsgpackMaxDepth));
  } catch (const msgpack::array_size_overflow&) {
    return tooLarge("msgpack: array longer than " + std::to_string(kMsgpackMaxContainer));
  } catch (const msgpack::map_size_overflow&) {
    return tooLarge("msgpack: map larger than " + std::to_string(kMsgpackMaxContainer));
  } catch (const msgpack::str_size_overflow&) {
    return tooLarge("msgpack: str longer than " + std::to_string(kMsgpackMaxStr) + " bytes");
  } catch (const msgpack::bin_size_overflow&) {
    return tooLarge("msgpack: bin longer than " + std::to_string(max_bin) + " bytes");
  } catch (const msgpack::ext_size_overflow&) {
    return malformed("msgpack: ext values are not allowed");
  } catch (const msgpack::insufficient_bytes&) {
    return malformed("msgpack: truncated input");
  } catch (const msgpack::unpack_error& e) {
    return malformed(std::string("msgpack: ") + e.what());
  } catch (const std::bad_alloc&) {
    return tooLarge("msgpack: out of memory while decoding");
  } catch (const std::exception& e) {
    return malformed(std::string("msgpack: ") + e.what());
  }
}

Status readUint(const msgpack::object& o, uint64_t max, uint64_t& out, std::string_view field) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return wrongType(o, field, "uint");
  if (o.via.u64 > max) {
    return malformed(fieldError(field, std::to_string(o.via.u64) + " exceeds the maximum " +
                                           std::to_string(max)));
  }
  out = o.via.u64;
  return Status::ok();
}

Status readInt(const msgpack::object& o, int64_t& out, std::string_view field) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    out = o.via.i64;
    return Status::ok();
  }
  if (o.type != msgpack::type::POSITIVE_INTEGER) return wrongType(o, field, "int");
  if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) {
    return malformed(fieldError(field, "does not fit in int64"));
  }
  out = static_cast<int64_t>(o.via.u64);
  return Status::ok();
}

Status readStr(const msgpack::object& o, size_t max_len, std::string& out,
               std::string_view field) {
  if (o.type != msgpack::type::STR) return wrongType(o, field, "str");
  if (o.via.str.size > max_len) {
    return tooLarge(fieldError(field, "str of " + std::to_string(o.via.str.size) +
                                          " bytes exceeds " + std::to_string(max_len)));
  }
  std::string_view s(o.via.str.ptr, o.via.str.size);
  if (!isValidUtf8(s)) return malformed(fieldError(field, "str is not valid UTF-8"));
  out.assign(s);
  return Status::ok();
}

Status readBin(const msgpack::object& o, size_t max_len, Bytes& out, std::string_view field) {
  if (o.type != msgpack::type::BIN) return wrongType(o, field, "bin");
  if (o.via.bin.size > max_len) {
    return tooLarge(fieldError(field, "bin of " + std::to_string(o.via.bin.size) +
                                          " bytes exceeds " + std::to_string(max_len)));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(o.via.bin.ptr);
  out.assign(p, p + o.via.bin.size);
  return Status::ok();
}

Status readBinExact(const msgpack::object& o, std::span<uint8_t> out, std::string_view field) {
  if (o.type != msgpack::type::BIN) return wrongType(o, field, "bin");
  if (o.via.bin.size != out.size()) {
    return malformed(fieldError(field, "bin of " + std::to_string(o.via.bin.size) +
                                           " bytes, expected exactly " +
                                           std::to_string(out.size())));
  }
  if (!out.empty()) {
    const auto* p = reinterpret_cast<const uint8_t*>(o.via.bin.ptr);
    std::copy(p, p + out.size(), out.begin());
  }
  return Status::ok();
}

Status readArray(const msgpack::object& o, size_t min_size, size_t max_size,
                 std::span<const msgpack::object>& out, std::string_view field) {
  if (o.type != msgpack::type::ARRAY) return wrongType(o, field, "array");
  size_t n = o.via.array.size;
  if (n > max_size && min_size != max_size) {
    return tooLarge(fieldError(field, "array of " + std::to_string(n) + " elements exceeds " +
                                          std::to_string(max_size)));
  }
  if (n < min_size || n > max_size) {
    std::string expect = min_size == max_size ? "exactly " + std::to_string(min_size)
                                              : "at least " + std::to_string(min_size);
    return malformed(fieldError(field, "array of " + std::to_string(n) + " elements, expected " +
                                           expect));
  }
  out = std::span<const msgpack::object>(o.via.array.ptr, n);
  return Status::ok();
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace meshslice
