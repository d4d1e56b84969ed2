// Feeds arbitrary stream bytes, split at fuzzer-chosen points, to the TCP frame decoder and each
// frame's body to the record reader. Checks: no crash, frames never exceed the limit, the
// decoder never buffers more than one frame, and re-framing the frames reproduces the prefix of
// the stream that was consumed.
#include <cstdlib>

#include "transport/frame_decoder.h"
#include "transport/record_codec.h"

using namespace meshslice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t limit = 1 + (data[0] << 8 | data[1]) % kMaxFrameBody;
  ByteView input(data + 2, size - 2);
  FrameDecoder decoder(limit);
  RecordReader records(64 * 1024);
  Bytes reframed;
  size_t fed = 0;
  Status st;
  for (size_t step = 1; fed < input.size() && st.isOk(); step = step * 3 % 61 + 1) {
    size_t n = std::min(step, input.size() - fed);
    st = decoder.feed(input.subspan(fed, n), [&](ByteView frame) {
      if (frame.size() > limit) std::abort();
      appendFrame(reframed, frame);
      records.feed(frame, [](ByteView m) { return m.size() <= 64 * 1024 || (std::abort(), false); }).ignore();
      return true;
    });
    fed += n;
    if (decoder.buffered() > kFrameHeaderSize + limit) std::abort();
  }
  if (st.isOk() && (reframed.size() > fed || !std::equal(reframed.begin(), reframed.end(), input.begin())))
    std::abort();
  return 0;
}
