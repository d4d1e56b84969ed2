#include "mesh/envelope.h"

#include <gtest/gtest.h>

#include "tests/support/hex_bytes.h"

#include <string>
#include <vector>

namespace meshslice {
namespace {

using test::hexBytes;

DeviceId testDevice() {
  DeviceId::Raw raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i + 1);
  return DeviceId(raw);
}

// Golden vectors, written by hand from the msgpack spec (not produced by our encoder):
//   9x = fixarray of x elements, 00..7f = positive fixint, cd = uint16, cf = uint64,
//   ax = fixstr of x bytes, c4 nn = bin8 of nn bytes. Device ID = bytes 01 02 ... 14.
constexpr std::string_view kDeviceHex = "0102030405060708090a0b0c0d0e0f1011121314";
struct Golden {
  const char* what;
  Envelope envelope;
  std::string hex;
};

std::vector<Golden> goldens() {
  const std::string dev(kDeviceHex);
  return {
      // [1, 1, 1, bin(20), "alpha", ["sync"], 7000]
      {"hello", Hello{1, 1, testDevice(), "alpha", {"sync"}, 7000},
       "97" "01" "01" "01" "c414" + dev + "a5616c706861" "91a473796e63" "cd1b58"},
      // [1, 1, 2, bin(20), "", [], 0]
      {"hello_empty", Hello{1, 2, testDevice(), "", {}}, "97" "01" "01" "02" "c414" + dev + "a0" "90" "00"},
      // [2, 300]
      {"heartbeat", Heartbeat{300}, "92" "02" "cd012c"},
      // [2, 2^32]
      {"heartbeat_u64", Heartbeat{1ull << 32}, "92" "02" "cf0000000100000000"},
      // [3, "shutdown"]
      {"goodbye", Goodbye{"shutdown"}, "92" "03" "a873687574646f776e"},
      // [4, "chat", bin(01 02 03)]
      {"message", BusMessage{"chat", {1, 2, 3}}, "93" "04" "a463686174" "c403010203"},
      // [4, "ms.sync", bin()]
      {"message_reserved", BusMessage{"ms.sync", {}}, "93" "04" "a76d732e73796e63" "c400"},
      // [5, 7, "app.rpc", bin("hi")]
      {"request", Request{7, "app.rpc", {'h', 'i'}}, "94" "05" "07" "a76170702e727063" "c4026869"},
      // [6, 7, 1, bin()]
      {"reply", Reply{7, ReplyCode::kNoHandler, {}}, "94" "06" "07" "01" "c400"},
      // [6, 4294967295, 0, bin("ok")]
      {"reply_max_id", Reply{0xFFFFFFFF, ReplyCode::kOk, {'o', 'k'}},
       "94" "06" "ceffffffff" "00" "c4026f6b"},
  };
}

TEST(Envelope, EncodesGoldenVectors) {
  for (const Golden& g : goldens()) {
    EXPECT_EQ(toHex(encodeEnvelope(g.envelope)), g.hex) << g.what;
  }
}

TEST(Envelope, DecodesGoldenVectors) {
  for (const Golden& g : goldens()) {
    auto decoded = decodeEnvelope(hexBytes(g.hex));
    ASSERT_TRUE(decoded.isOk()) << g.what << ": " << decoded.status().toString();
    EXPECT_TRUE(*decoded == g.envelope) << g.what;
    EXPECT_EQ(envelopeType(*decoded), envelopeType(g.envelope));
  }
}

TEST(Envelope, TypeCodesMatchTheVariantOrder) {
  EXPECT_EQ(envelopeType(Hello{}), EnvelopeType::kHello);
  EXPECT_EQ(envelopeType(Reply{}), EnvelopeType::kReply);
  EXPECT_STREQ(envelopeTypeName(EnvelopeType::kRequest), "request");
}

TEST(Envelope, RejectsEveryTruncation) {
  for (const Golden& g : goldens()) {
    Bytes full = hexBytes(g.hex);
    for (size_t n = 0; n < full.size(); ++n) {
      auto r = decodeEnvelope(ByteView(full.data(), n));
      EXPECT_FALSE(r.isOk()) << g.what << " truncated to " << n;
    }
  }
}

TEST(Envelope, RejectsTrailingGarbage) {
  for (const Golden& g : goldens()) {
    for (std::string tail : {"00", "c0", "92020a"}) {
      auto r = decodeEnvelope(hexBytes(g.hex + tail));
      ASSERT_FALSE(r.isOk()) << g.what;
      EXPECT_EQ(r.status().code(), Code::kMalformed);
    }
  }
}

struct Bad {
  const char* what;
  std::string hex;
  Code code;
};

std::vector<Bad> malformedEnvelopes() {
  const std::string dev(kDeviceHex);
  const std::string hello_tail = "c414" + dev + "a0" "90" "00";
  return {
      {"not an array", "02", Code::kMalformed},
      {"map instead of array", "81" "01" "02", Code::kMalformed},
      {"empty array", "90", Code::kMalformed},
      {"unknown type 0", "9100", Code::kMalformed},
      {"unknown type 7", "9207" "00", Code::kMalformed},
      {"unknown huge type", "92cf0000000100000000" "00", Code::kMalformed},
      {"type as str", "92a10200", Code::kMalformed},
      {"negative type", "92ff00", Code::kMalformed},
      {"heartbeat missing seq", "9102", Code::kMalformed},
      {"heartbeat extra field", "930201c0", Code::kMalformed},
      {"heartbeat negative seq", "9202ff", Code::kMalformed},
      {"heartbeat float seq", "9202ca3f800000", Code::kMalformed},
      {"hello 6 fields", "96010101c414" + dev + "a0" "90", Code::kMalformed},
      {"hello 8 fields", "9801" "01" "01" + hello_tail + "c0", Code::kMalformed},
      {"hello port over u16", "9701" "01" "01" "c414" + dev + "a0" "90" "ce00010000", Code::kMalformed},
      {"hello port negative", "9701" "01" "01" "c414" + dev + "a0" "90" "ff", Code::kMalformed},
      {"hello min > max", "9701" "02" "01" + hello_tail, Code::kMalformed},
      {"hello min 0", "9701" "00" "01" + hello_tail, Code::kMalformed},
      {"hello version > u32", "9701" "01" "cf0000000100000000" + hello_tail, Code::kMalformed},
      {"hello device 19 bytes", "9701" "01" "01" "c413" + dev.substr(2) + "a090" "00", Code::kMalformed},
      {"hello device 21 bytes", "9701" "01" "01" "c415" + dev + "00" "a090" "00", Code::kMalformed},
      {"hello device as str", "9701" "01" "01" "b4" + dev + "a090" "00", Code::kMalformed},
      {"hello name as bin", "9701" "01" "01" "c414" + dev + "c400" "90" "00", Code::kMalformed},
      {"hello name 65 bytes", "9701" "01" "01" "c414" + dev + "d941" + std::string(130, '6') + "90" "00",
       Code::kTooLarge},
      {"hello name invalid utf8", "9701" "01" "01" "c414" + dev + "a1ff" "90" "00", Code::kMalformed},
      {"hello name control char", "9701" "01" "01" "c414" + dev + "a10a" "90" "00", Code::kMalformed},
      {"hello caps not array", "9701" "01" "01" "c414" + dev + "a0" "a0" "00", Code::kMalformed},
      {"hello cap not str", "9701" "01" "01" "c414" + dev + "a0" "9101" "00", Code::kMalformed},
      {"hello cap bad syntax", "9701" "01" "01" "c414" + dev + "a0" "91a22e78" "00", Code::kMalformed},
      {"hello cap empty", "9701" "01" "01" "c414" + dev + "a0" "91a0" "00", Code::kMalformed},
      {"goodbye reason as bin", "9203c400", Code::kMalformed},
      {"message ns invalid", "9304a3612062c400", Code::kMalformed},
      {"message ns empty", "9304a0c400", Code::kMalformed},
      {"message ns 65 chars", "9304d941" + std::string(130, '6') + "c400", Code::kTooLarge},
      {"message payload as str", "9304a16ea0", Code::kMalformed},
      {"message missing payload", "9204a16e", Code::kMalformed},
      {"request id > u32", "9405cf0000000100000000a16ec400", Code::kMalformed},
      {"request id negative", "9405ffa16ec400", Code::kMalformed},
      {"request payload nil", "940501a16ec0", Code::kMalformed},
      {"reply unknown code", "94060103c400", Code::kMalformed},
      {"reply 3 fields", "93060100", Code::kMalformed},
      {"ext element", "9302d40100", Code::kMalformed},
      // Bodies are checked against limits once present; a header alone is a truncation.
      {"str32 header claims 4 GiB", "9203dbffffffff", Code::kMalformed},
      {"bin32 header claims 4 GiB", "9304a16ec6ffffffff", Code::kMalformed},
      {"goodbye reason 257 bytes", "9203da0101" + std::string(514, '6'), Code::kTooLarge},
      {"str over the msgpack limit", "9203da1001" + std::string(8194, '6'), Code::kTooLarge},
      {"array32 header claims 4G entries", "dd7fffffff", Code::kTooLarge},
      {"reserved byte", "9202c1", Code::kMalformed},
  };
}

TEST(Envelope, RejectsMalformedInputsWithTheRightCode) {
  for (const Bad& b : malformedEnvelopes()) {
    auto r = decodeEnvelope(hexBytes(b.hex));
    ASSERT_FALSE(r.isOk()) << b.what;
    EXPECT_EQ(r.status().code(), b.code) << b.what << ": " << r.status().toString();
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST(Envelope, ErrorMessagesNameTheField) {
  auto r = decodeEnvelope(hexBytes("9304a3612062c400"));
  EXPECT_NE(r.status().message().find("message.ns"), std::string::npos) << r.status().message();
  auto arity = decodeEnvelope(hexBytes("930201c0"));
  EXPECT_EQ(arity.status().message(), "envelope: heartbeat has 3 elements, expected 2");
}

TEST(Envelope, RejectsDepthBombs) {
  std::string deep = "9204";
  for (int i = 0; i < 20; ++i) deep += "91";
  deep += "00";
  auto r = decodeEnvelope(hexBytes(deep));
  EXPECT_EQ(r.status().code(), Code::kTooLarge);
  std::string huge;
  for (int i = 0; i < 200000; ++i) huge += "91";
  EXPECT_EQ(decodeEnvelope(hexBytes(huge)).status().code(), Code::kTooLarge);
}

TEST(Envelope, RejectsOversizedInputBeforeParsing) {
  Bytes big(kMaxMessageSize + 1, 0);
  EXPECT_EQ(decodeEnvelope(big).status().code(), Code::kTooLarge);
}

TEST(Envelope, CarriesTheLargestPayload) {
  BusMessage m{std::string(kMaxNamespaceLength, 'n'), Bytes(kMaxPayloadSize, 0xab)};
  Request r{0xFFFFFFFF, std::string(kMaxNamespaceLength, 'n'), Bytes(kMaxPayloadSize, 0xcd)};
  for (const Envelope& e : {Envelope(m), Envelope(r)}) {
    ASSERT_TRUE(validateEnvelope(e).isOk());
    Bytes wire = encodeEnvelope(e);
    EXPECT_LE(wire.size(), kMaxMessageSize);
    auto back = decodeEnvelope(wire);
    ASSERT_TRUE(back.isOk()) << back.status().toString();
    EXPECT_TRUE(*back == e);
  }
  m.payload.push_back(0);
  EXPECT_EQ(validateEnvelope(m).code(), Code::kTooLarge);
}

TEST(Envelope, RejectsAPayloadOverTheLimitOnTheWire) {
  // [4, "n", bin32(kMaxPayloadSize + 1)]: within kMaxMessageSize, over the payload limit.
  Bytes wire = hexBytes("9304a16ec6");
  uint8_t len[4];
  putU32(len, static_cast<uint32_t>(kMaxPayloadSize + 1));
  wire.insert(wire.end(), len, len + 4);
  wire.resize(wire.size() + kMaxPayloadSize + 1, 0);
  ASSERT_LE(wire.size(), kMaxMessageSize);
  EXPECT_EQ(decodeEnvelope(wire).status().code(), Code::kTooLarge);
}

TEST(Envelope, HelloAtEveryLimitRoundTrips) {
  Hello h{1, 0xFFFFFFFF, testDevice(), std::string(kMaxNameLength, 'x'), {}};
  for (size_t i = 0; i < kMaxCapabilities; ++i) {
    h.capabilities.push_back(std::string(kMaxCapabilityLength - 2, 'c') +
                             std::to_string(10 + i));
  }
  ASSERT_TRUE(validateEnvelope(h).isOk());
  auto back = decodeEnvelope(encodeEnvelope(h));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_TRUE(*back == Envelope(h));
  h.capabilities.push_back("one-too-many");
  EXPECT_EQ(validateEnvelope(h).code(), Code::kTooLarge);
  // 17 capabilities on the wire: array16 of 0x11 one-letter strs.
  std::string wire = "97" "01" "01" "01" "c414" + std::string(kDeviceHex) + "a0" "dc0011";
  for (int i = 0; i < 17; ++i) wire += "a163";
  wire += "00";  // listen_port
  EXPECT_EQ(decodeEnvelope(hexBytes(wire)).status().code(), Code::kTooLarge);
}

TEST(Envelope, ValidateRejectsLocalMistakes) {
  EXPECT_FALSE(validateEnvelope(BusMessage{"bad ns", {}}).isOk());
  EXPECT_FALSE(validateEnvelope(Goodbye{std::string(kMaxReasonLength + 1, 'r')}).isOk());
  EXPECT_FALSE(validateEnvelope(Hello{2, 1, testDevice(), "", {}}).isOk());
  EXPECT_FALSE(validateEnvelope(Reply{1, static_cast<ReplyCode>(9), {}}).isOk());
  EXPECT_TRUE(validateEnvelope(Heartbeat{}).isOk());
}

}  // namespace
}  // namespace meshslice
