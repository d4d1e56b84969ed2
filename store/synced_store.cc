#include "store/synced_store.h"

#include <chrono>

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

int64_t systemWallMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace detail
}  // namespace meshslice
