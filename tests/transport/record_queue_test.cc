// The record layer under a long queue: appends interleaved with sends, large messages after
// small ones, so the writer compacts its buffer and the reader reuses its reassembly buffer
// many times. Every message must come out whole and in order.
#include <gtest/gtest.h>

#include "transport/record_codec.h"

namespace meshslice {
namespace {

Bytes message(size_t index) {
  const size_t sizes[] = {1, 1024, 70000, 64, 300000, 4096};
  Bytes m(sizes[index % 6]);
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(index * 31 + i);
  return m;
}

TEST(RecordQueue, LongQueuesComeOutWholeAndInOrder) {
  RecordWriter w;
  RecordReader r(1 << 20);
  size_t appended = 0, received = 0;
  auto sendFrames = [&](int max_frames) {
    for (int i = 0; i < max_frames && !w.empty(); ++i) {
      ByteView f = w.nextFrame();
      ASSERT_LE(f.size(), kMaxFramePlaintext);
      Status st = r.feed(f, [&](ByteView m) {
        EXPECT_EQ(Bytes(m.begin(), m.end()), message(received)) << "message " << received;
        ++received;
        return true;
      });
      ASSERT_TRUE(st.isOk()) << st.toString();
      w.consume(f.size());
    }
  };
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 12; ++i) w.append(message(appended++));  // ~2.3 MB queued per round
    sendFrames(round % 3 == 0 ? 1000 : 7);                       // sometimes drain, mostly not
  }
  sendFrames(100000);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.pendingBytes(), 0u);
  EXPECT_EQ(received, appended);
}

}  // namespace
}  // namespace meshslice
