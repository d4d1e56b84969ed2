#include "base/msgpack_limits.h"

#include <gtest/gtest.h>

#include "tests/support/hex_bytes.h"

#include <string>

namespace meshslice {
namespace {

using test::hexBytes;

Code unpackCode(std::string_view hex, size_t max_bin = 16) {
  auto r = unpackBounded(hexBytes(hex), max_bin);
  return r.isOk() ? Code::kOk : r.status().code();
}

TEST(UnpackBounded, DecodesOneObject) {
  auto r = unpackBounded(hexBytes("93010203"), 16);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->get().type, msgpack::type::ARRAY);
  EXPECT_EQ(r->get().via.array.size, 3u);
}

TEST(UnpackBounded, RejectsEmptyInput) { EXPECT_EQ(unpackCode(""), Code::kMalformed); }

TEST(UnpackBounded, RejectsTrailingBytes) {
  auto r = unpackBounded(hexBytes("9101c0"), 16);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kMalformed);
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos);
}

TEST(UnpackBounded, RejectsTruncatedInput) {
  EXPECT_EQ(unpackCode("930102"), Code::kMalformed);
  EXPECT_EQ(unpackCode("a5616263"), Code::kMalformed);
  EXPECT_EQ(unpackCode("cd01"), Code::kMalformed);
}

TEST(UnpackBounded, RejectsReservedByte) { EXPECT_EQ(unpackCode("c1"), Code::kMalformed); }

TEST(UnpackBounded, RejectsExt) {
  EXPECT_EQ(unpackCode("d40101"), Code::kMalformed);      // fixext 1
  EXPECT_EQ(unpackCode("c7000a"), Code::kMalformed);      // ext 8, empty
}

TEST(UnpackBounded, AllowsDepthEightAndRejectsNine) {
  // Eight nested one-element arrays around a 0: depth 8 is allowed.
  std::string eight;
  for (int i = 0; i < 8; ++i) eight += "91";
  EXPECT_EQ(unpackCode(eight + "00"), Code::kOk);
  EXPECT_EQ(unpackCode("91" + eight + "00"), Code::kTooLarge);
}

TEST(UnpackBounded, RejectsDepthBombWithoutBody) {
  std::string bomb;
  for (int i = 0; i < 100000; ++i) bomb += "91";
  EXPECT_EQ(unpackCode(bomb), Code::kTooLarge);
}

TEST(UnpackBounded, RejectsOversizedContainersFromTheirHeaders) {
  // Headers claiming huge sizes fail before any allocation or body.
  EXPECT_EQ(unpackCode("dd7fffffff"), Code::kTooLarge);  // array32
  EXPECT_EQ(unpackCode("dc1001"), Code::kTooLarge);      // array16 of 4097
  EXPECT_EQ(unpackCode("df7fffffff"), Code::kTooLarge);  // map32
}

TEST(UnpackBounded, RejectsOversizedStrAndBin) {
  EXPECT_EQ(unpackCode("da1001" + std::string(2 * 4097, '6')), Code::kTooLarge);  // str16
  EXPECT_EQ(unpackCode("da1000" + std::string(2 * 4096, '6')), Code::kOk);
  EXPECT_EQ(unpackCode("c411" + std::string(34, '0')), Code::kTooLarge);  // bin8 of 17 > 16
  EXPECT_EQ(unpackCode("c410" + std::string(32, '0')), Code::kOk);
  // A header alone cannot make the decoder allocate: the body must be present first.
  EXPECT_EQ(unpackCode("dbffffffff"), Code::kMalformed);
  EXPECT_EQ(unpackCode("c6ffffffff"), Code::kMalformed);
}

TEST(UnpackBounded, AllowsContainersAtTheLimit) {
  std::string hex = "dc1000";
  for (int i = 0; i < 4096; ++i) hex += "c0";
  EXPECT_EQ(unpackCode(hex), Code::kOk);
}

TEST(ReadUint, ChecksTypeAndMaximum) {
  auto h = unpackBounded(hexBytes("93cd012cff" "a0"), 16);
  ASSERT_TRUE(h.isOk());
  const msgpack::object* e = h->get().via.array.ptr;
  uint64_t v = 0;
  EXPECT_TRUE(readUint(e[0], 300, v, "f").isOk());
  EXPECT_EQ(v, 300u);
  EXPECT_EQ(readUint(e[0], 299, v, "f").code(), Code::kMalformed);
  EXPECT_EQ(readUint(e[1], 1000, v, "f").code(), Code::kMalformed);  // -1
  Status s = readUint(e[2], 1000, v, "hello.seq");
  EXPECT_EQ(s.code(), Code::kMalformed);
  EXPECT_EQ(s.message(), "hello.seq: expected uint, got str");
}

TEST(ReadInt, AcceptsBothSignsWithinInt64) {
  auto h = unpackBounded(hexBytes("93ffcf7fffffffffffffffcf8000000000000000"), 16);
  ASSERT_TRUE(h.isOk());
  const msgpack::object* e = h->get().via.array.ptr;
  int64_t v = 0;
  ASSERT_TRUE(readInt(e[0], v, "f").isOk());
  EXPECT_EQ(v, -1);
  ASSERT_TRUE(readInt(e[1], v, "f").isOk());
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_EQ(readInt(e[2], v, "f").code(), Code::kMalformed);
}

TEST(ReadStr, ChecksLengthAndUtf8) {
  auto h = unpackBounded(hexBytes("93a3616263a2c328a0"), 16);
  ASSERT_TRUE(h.isOk());
  const msgpack::object* e = h->get().via.array.ptr;
  std::string s;
  ASSERT_TRUE(readStr(e[0], 3, s, "f").isOk());
  EXPECT_EQ(s, "abc");
  EXPECT_EQ(readStr(e[0], 2, s, "f").code(), Code::kTooLarge);
  EXPECT_EQ(readStr(e[1], 16, s, "f").code(), Code::kMalformed);  // invalid UTF-8
  ASSERT_TRUE(readStr(e[2], 0, s, "f").isOk());
  EXPECT_EQ(s, "");
}

TEST(ReadBin, ChecksTypeAndLength) {
  auto h = unpackBounded(hexBytes("92c4020102a2aabb"), 16);
  ASSERT_TRUE(h.isOk());
  const msgpack::object* e = h->get().via.array.ptr;
  Bytes b;
  ASSERT_TRUE(readBin(e[0], 2, b, "f").isOk());
  EXPECT_EQ(b, (Bytes{1, 2}));
  EXPECT_EQ(readBin(e[0], 1, b, "f").code(), Code::kTooLarge);
  EXPECT_EQ(readBin(e[1], 16, b, "f").code(), Code::kMalformed);  // str is not bin
  uint8_t exact[2];
  EXPECT_TRUE(readBinExact(e[0], exact, "f").isOk());
  uint8_t wrong[3];
  EXPECT_EQ(readBinExact(e[0], wrong, "f").code(), Code::kMalformed);
}

TEST(ReadArray, ChecksBounds) {
  auto h = unpackBounded(hexBytes("93010203"), 16);
  ASSERT_TRUE(h.isOk());
  std::span<const msgpack::object> elems;
  EXPECT_TRUE(readArrayExact(h->get(), 3, elems, "f").isOk());
  EXPECT_EQ(elems.size(), 3u);
  EXPECT_EQ(readArrayExact(h->get(), 2, elems, "f").code(), Code::kMalformed);
  EXPECT_EQ(readArray(h->get(), 0, 2, elems, "f").code(), Code::kTooLarge);
  EXPECT_EQ(readArray(h->get(), 4, 8, elems, "f").code(), Code::kMalformed);
  auto m = unpackBounded(hexBytes("80"), 16);
  ASSERT_TRUE(m.isOk());
  EXPECT_EQ(readArray(m->get(), 0, 8, elems, "f").code(), Code::kMalformed);
}

TEST(IsValidUtf8, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("K\xc3\xbc" "che \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(isValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xff"));
}

}  // namespace
}  // namespace meshslice
