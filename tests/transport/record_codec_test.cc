#include "transport/record_codec.h"

#include <gtest/gtest.h>

namespace meshslice {
namespace {

std::vector<Bytes> readAll(RecordReader& r, ByteView frame, Status* st = nullptr) {
  std::vector<Bytes> out;
  Status s = r.feed(frame, [&](ByteView m) {
    out.emplace_back(m.begin(), m.end());
    return true;
  });
  if (st) *st = s;
  return out;
}

TEST(RecordCodec, EncodesTheDocumentedBytes) {
  RecordWriter w;
  w.append(asBytes("hi"));
  w.append({});
  EXPECT_EQ(toHex(w.nextFrame()), "0100026869" "010000");
}

TEST(RecordCodec, PacksSmallMessagesAndChunksLargeOnes) {
  RecordWriter w;
  Bytes big(200000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i);
  w.append(asBytes("small"));
  w.append(big);
  RecordReader r(1 << 20);
  std::vector<Bytes> got;
  int frames = 0;
  while (!w.empty()) {
    ByteView f = w.nextFrame();
    ASSERT_LE(f.size(), kMaxFramePlaintext);
    ASSERT_FALSE(f.empty());
    auto msgs = readAll(r, f);
    got.insert(got.end(), msgs.begin(), msgs.end());
    w.consume(f.size());
    ++frames;
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(toString(got[0]), "small");
  EXPECT_EQ(got[1], big);
  EXPECT_EQ(frames, 4);  // 200005 bytes of records over 65519-byte frames
}

TEST(RecordCodec, RejectsMalformedFrames) {
  struct Case {
    const char* hex;
    Code code;
  } cases[] = {
      {"", Code::kMalformed},          // empty frame
      {"01", Code::kMalformed},        // truncated header
      {"010005616263", Code::kMalformed},  // record overruns frame
      {"030001aa", Code::kMalformed},  // reserved flag
      {"800001aa", Code::kMalformed},  // reserved flag
  };
  for (const auto& c : cases) {
    RecordReader r(100);
    Bytes frame;
    ASSERT_TRUE(fromHex(c.hex, frame));
    Status st;
    auto msgs = readAll(r, frame, &st);
    EXPECT_EQ(st.code(), c.code) << c.hex;
    EXPECT_TRUE(msgs.empty()) << c.hex;
  }
}

TEST(RecordCodec, EnforcesTheMessageLimitAcrossRecords) {
  RecordReader r(10);
  Bytes frame;
  ASSERT_TRUE(fromHex("000006aaaaaaaaaaaa", frame));  // 6 bytes, no FIN
  Status st;
  EXPECT_TRUE(readAll(r, frame, &st).empty());
  EXPECT_TRUE(st.isOk());
  EXPECT_TRUE(readAll(r, frame, &st).empty());  // 12 > 10
  EXPECT_EQ(st.code(), Code::kTooLarge);
}

}  // namespace
}  // namespace meshslice
