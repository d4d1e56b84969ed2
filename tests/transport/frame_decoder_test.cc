#include "transport/frame_decoder.h"
#include "transport/link.h"

#include <gtest/gtest.h>

namespace meshslice {
namespace {

std::vector<Bytes> feedAll(FrameDecoder& d, ByteView bytes, Status* st = nullptr) {
  std::vector<Bytes> out;
  Status s = d.feed(bytes, [&](ByteView f) {
    out.emplace_back(f.begin(), f.end());
    return true;
  });
  if (st) *st = s;
  return out;
}

TEST(FrameDecoder, SplitsConcatenatedFrames) {
  Bytes stream;
  appendFrame(stream, asBytes("hello"));
  appendFrame(stream, asBytes(""));
  appendFrame(stream, asBytes("world!"));
  EXPECT_EQ(toHex(ByteView(stream).first(7)), "000568656c6c6f");
  FrameDecoder d(kMaxFrameBody);
  auto frames = feedAll(d, stream);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(toString(frames[0]), "hello");
  EXPECT_TRUE(frames[1].empty());
  EXPECT_EQ(toString(frames[2]), "world!");
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, ReassemblesFramesFedOneByteAtATime) {
  Bytes stream;
  Bytes big(70000 % 65536, 0xab);
  appendFrame(stream, big);
  appendFrame(stream, asBytes("x"));
  FrameDecoder d(kMaxFrameBody);
  std::vector<Bytes> frames;
  for (uint8_t b : stream) {
    auto got = feedAll(d, ByteView(&b, 1));
    frames.insert(frames.end(), got.begin(), got.end());
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], big);
  EXPECT_EQ(toString(frames[1]), "x");
}

TEST(FrameDecoder, RejectsOversizedLengthPrefixBeforeBuffering) {
  FrameDecoder d(100);
  Bytes header = {0x00, 0x65};  // 101
  Status st;
  auto frames = feedAll(d, header, &st);
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(st.code(), Code::kTooLarge);
  EXPECT_EQ(d.buffered(), 0u);
  // Split header: the limit is still enforced.
  FrameDecoder d2(100);
  Bytes one = {0xff};
  EXPECT_TRUE(d2.feed(one, [](ByteView) { return true; }).isOk());
  Bytes two = {0xff};
  EXPECT_EQ(d2.feed(two, [](ByteView) { return true; }).code(), Code::kTooLarge);
  // A failed decoder stays failed.
  EXPECT_FALSE(d2.feed(Bytes{0, 0}, [](ByteView) { return true; }).isOk());
}

TEST(FrameDecoder, StopsWhenConsumerDeclines) {
  Bytes stream;
  appendFrame(stream, asBytes("a"));
  appendFrame(stream, asBytes("b"));
  FrameDecoder d(kMaxFrameBody);
  int seen = 0;
  EXPECT_TRUE(d.feed(stream, [&](ByteView) { return ++seen < 1; }).isOk());
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace meshslice
