// hexBytes(): the bytes a hex string spells, for golden vectors in tests (a bad string fails the
// test that called it).
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "base/bytes.h"

namespace meshslice::test {

inline Bytes hexBytes(std::string_view hex) {
  Bytes out;
  EXPECT_TRUE(fromHex(hex, out)) << hex;
  return out;
}

}  // namespace meshslice::test
