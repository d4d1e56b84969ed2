// Feeds arbitrary bytes, split at fuzzer-chosen points, to the WebSocket frame decoder of the
// daemon's web API (client-to-server frames). Checks: no crash; messages stay within the
// message limit and control frames within 125 bytes; text messages are valid UTF-8; the
// decoder never buffers more than one frame (the larger of limit and 125, + 14 header bytes); a failure carries a
// close code a server may send; nothing is decoded after a failure or a Close.
#include <algorithm>
#include <cstdlib>

#include "base/msgpack_limits.h"
#include "node/websocket_codec.h"

using namespace meshslice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t limit = 1 + (data[0] << 8 | data[1]) % 8192;
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  WsDecoder decoder(limit);
  bool over = false;
  auto sink = [&](WsMessage&& m) {
    if (over) std::abort();
    const bool control = (static_cast<uint8_t>(m.opcode) & 0x8) != 0;
    if (control && m.payload.size() > kMaxWsControlPayload) std::abort();
    if (!control && m.payload.size() > limit) std::abort();
    if (m.opcode == WsOpcode::kText && !isValidUtf8(m.payload)) std::abort();
    if (m.opcode == WsOpcode::kContinuation) std::abort();
    if (m.opcode == WsOpcode::kClose) over = true;
    return true;
  };
  size_t fed = 0;
  for (size_t step = 1; fed < input.size(); step = step * 5 % 89 + 1) {
    size_t n = std::min(step, input.size() - fed);
    auto failure = decoder.feed(input.substr(fed, n), sink);
    fed += n;
    if (decoder.buffered() > std::max(limit, kMaxWsControlPayload) + 14) std::abort();
    if (failure) {
      if (failure->close_code != ws_close::kProtocolError && failure->close_code != ws_close::kMessageTooBig &&
          failure->close_code != ws_close::kInvalidPayload)
        std::abort();
      over = true;
      if (decoder.feed(input.substr(fed), sink)) std::abort();  // spent: nothing more comes out
      return 0;
    }
  }
  return 0;
}
