#include "base/base32.h"

#include <gtest/gtest.h>

namespace meshslice {
namespace {

// RFC 4648 section 10 test vectors, with the '=' padding removed.
TEST(Base32, EncodesRfc4648Vectors) {
  EXPECT_EQ(base32Encode(asBytes("")), "");
  EXPECT_EQ(base32Encode(asBytes("f")), "MY");
  EXPECT_EQ(base32Encode(asBytes("fo")), "MZXQ");
  EXPECT_EQ(base32Encode(asBytes("foo")), "MZXW6");
  EXPECT_EQ(base32Encode(asBytes("foob")), "MZXW6YQ");
  EXPECT_EQ(base32Encode(asBytes("fooba")), "MZXW6YTB");
  EXPECT_EQ(base32Encode(asBytes("foobar")), "MZXW6YTBOI");
}

TEST(Base32, DecodesEitherCase) {
  Bytes out;
  ASSERT_TRUE(base32Decode("MZXW6YTBOI", out));
  EXPECT_EQ(toString(out), "foobar");
  ASSERT_TRUE(base32Decode("mzxw6ytboi", out));
  EXPECT_EQ(toString(out), "foobar");
}

TEST(Base32, RejectsBadCharactersLengthsAndTrailingBits) {
  Bytes out;
  EXPECT_FALSE(base32Decode("MZXW6YTB0I", out));  // '0' is not in the alphabet
  EXPECT_FALSE(base32Decode("MZXW6YTB=", out));
  EXPECT_FALSE(base32Decode("M", out));          // 5 bits: no whole byte
  EXPECT_FALSE(base32Decode("MZX", out));
  EXPECT_FALSE(base32Decode("MZ", out));         // "f" is "MY": the last 2 bits must be 0
}

TEST(Base32, RoundTripsEveryLength) {
  Bytes data;
  for (int n = 0; n < 40; ++n) {
    Bytes out;
    ASSERT_TRUE(base32Decode(base32Encode(data), out)) << n;
    EXPECT_EQ(out, data);
    data.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
}

}  // namespace
}  // namespace meshslice
