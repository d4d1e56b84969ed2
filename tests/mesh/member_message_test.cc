#include "mesh/member_message.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/hex_bytes.h"

namespace meshslice {
namespace {

using test::hexBytes;

DeviceId device(uint8_t first) {
  DeviceId::Raw raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(first + i);
  return DeviceId(raw);
}

// Written by hand from the msgpack spec (docs/PROTOCOL.md §13 lists the same bytes):
// 9x = fixarray, 00..7f = positive fixint, cd = uint16, c4 14 = bin8 of 20 bytes.
// A = bytes 01..14, B = bytes 21..34.
const std::string kA = "0102030405060708090a0b0c0d0e0f1011121314";
const std::string kB = "2122232425262728292a2b2c2d2e2f3031323334";

struct Golden {
  const char* what;
  MemberMessage message;
  std::string hex;
};

std::vector<Golden> goldens() {
  const DeviceId a = device(0x01), b = device(0x21);
  return {
      // [7, 0, 1, []]
      {"ping", {MemberMessageType::kPing, 0, 1, {}, {}}, "94" "07" "00" "01" "90"},
      // [8, 3, 300, [[A, 1, 2, B]]]: an Ack that says A is suspected at epoch 2 by B
      {"ack", {MemberMessageType::kAck, 3, 300, {}, {{a, MemberState::kSuspect, 2, b}}},
       "94" "08" "03" "cd012c" "91" "94" "c414" + kA + "01" "02" "c414" + kB},
      // [9, 0, 7, A, []]
      {"ping_req", {MemberMessageType::kPingReq, 0, 7, a, {}}, "95" "09" "00" "07" "c414" + kA + "90"},
      // [10, 1, 7, []]
      {"nack", {MemberMessageType::kNack, 1, 7, {}, {}}, "94" "0a" "01" "07" "90"},
      // [11, 2, [[A, 2, 1, B]]]: B declared A dead at epoch 1
      {"gossip", {MemberMessageType::kGossip, 2, 0, {}, {{a, MemberState::kDead, 1, b}}},
       "93" "0b" "02" "91" "94" "c414" + kA + "02" "01" "c414" + kB},
  };
}

TEST(MemberMessage, EncodesGoldenVectors) {
  for (const Golden& g : goldens()) {
    EXPECT_EQ(toHex(encodeMemberMessage(g.message)), g.hex) << g.what;
    auto decoded = decodeMemberMessage(hexBytes(g.hex));
    ASSERT_TRUE(decoded.isOk()) << g.what << ": " << decoded.status().toString();
    EXPECT_EQ(*decoded, g.message) << g.what;
  }
}

TEST(MemberMessage, FullMessageFitsTheSizeBound) {
  MemberMessage m{MemberMessageType::kPingReq, kMaxMemberEpoch, UINT32_MAX, device(1), {}};
  for (size_t i = 0; i < kMaxMemberUpdates; ++i) {
    m.updates.push_back({device(static_cast<uint8_t>(i + 1)), MemberState::kDead, kMaxMemberEpoch, device(0x40)});
  }
  Bytes wire = encodeMemberMessage(m);
  EXPECT_LE(wire.size(), kMaxMemberMessageSize);
  auto decoded = decodeMemberMessage(wire);
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  EXPECT_EQ(*decoded, m);
}

TEST(MemberMessage, RefusesMalformedInputWithClearErrors) {
  struct Bad {
    std::string hex;
    Code code;
    const char* says;
  };
  const std::vector<Bad> bad = {
      {"", Code::kMalformed, ""},
      {"94070001", Code::kMalformed, ""},                     // truncated
      {"940400019000", Code::kMalformed, ""},                 // trailing byte
      {"9404000190", Code::kMalformed, "not a membership type"},  // 4 is a bus Message
      {"940c000190", Code::kMalformed, "not a membership type"},  // 12: reserved, unused
      {"9307000190", Code::kMalformed, ""},                   // wrong arity for a Ping
      {"9407cf0020000000000000" "0190", Code::kMalformed, "sender_epoch"},  // epoch 2^53
      {"95090007c414" + std::string(40, '0') + "90", Code::kMalformed, "zero device ID"},
      {"94070001" "91" "94" "c414" + kA + "03" "00" "c414" + kB, Code::kMalformed, "state"},
      {"94070001" "91" "93" "c414" + kA + "00" "00", Code::kMalformed, "update"},
      {"94070001" "dc0011" + std::string(17 * 2, '0'), Code::kTooLarge, "updates"},
  };
  for (const Bad& b : bad) {
    Bytes bytes;
    ASSERT_TRUE(fromHex(b.hex, bytes)) << b.hex;
    auto r = decodeMemberMessage(bytes);
    ASSERT_FALSE(r.isOk()) << b.hex;
    EXPECT_EQ(r.status().code(), b.code) << b.hex << ": " << r.status().toString();
    EXPECT_NE(r.status().message().find(b.says), std::string::npos) << r.status().toString();
  }
  EXPECT_EQ(decodeMemberMessage(Bytes(kMaxMemberMessageSize + 1, 0x90)).status().code(), Code::kTooLarge);
}

// The fuzzer's property on a fixed budget: mutated golden vectors never crash the decoder, and
// whatever decodes re-encodes canonically to a message that decodes to the same value.
TEST(MemberMessage, MutatedInputsDecodeSafely) {
  std::mt19937_64 rng(15);
  size_t decoded_count = 0;
  for (const Golden& g : goldens()) {
    const Bytes base = hexBytes(g.hex);
    for (int round = 0; round < 2000; ++round) {
      Bytes b = base;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<uint8_t>(rng());
      if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
      auto r = decodeMemberMessage(b);
      if (!r.isOk()) continue;
      ++decoded_count;
      ASSERT_TRUE(validateMemberMessage(*r).isOk());
      auto again = decodeMemberMessage(encodeMemberMessage(*r));
      ASSERT_TRUE(again.isOk());
      EXPECT_EQ(*again, *r);
    }
  }
  EXPECT_GT(decoded_count, 0u);
}

}  // namespace
}  // namespace meshslice
