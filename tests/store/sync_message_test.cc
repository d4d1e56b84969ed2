#include "store/sync_message.h"

#include <gtest/gtest.h>

#include "tests/support/hex_bytes.h"

#include <string>
#include <vector>

#include "mesh/protocol_constants.h"

namespace meshslice {
namespace {

using test::hexBytes;

DeviceId testDevice() {
  DeviceId::Raw raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i + 1);
  return DeviceId(raw);
}

// Golden vectors, written by hand from the msgpack spec (not produced by our encoder):
//   9x = fixarray, 00..7f = positive fixint, e0..ff = negative fixint, cf = uint64,
//   d3 = int64, ax = fixstr, c4 nn = bin8. Device ID = bytes 01 02 ... 14.
//   1700000000000 ms = 0x0000018bcfe56800.
constexpr std::string_view kDeviceHex = "0102030405060708090a0b0c0d0e0f1011121314";

struct Golden {
  const char* what;
  SyncMessage message;
  std::string hex;
  uint32_t version;  // the protocol version whose form this is
};

std::vector<Golden> goldens() {
  const std::string dev(kDeviceHex);
  return {
      // Protocol 2 forms (with incarnations).
      // [1, "prefs", bin(20), 5, 1700000000000, bin("{}"), 0x1122334455667788]
      {"slice_update", SliceUpdate{"prefs", DeviceSlice{testDevice(), 5, 1700000000000, {'{', '}'}}, 0x1122334455667788},
       "97" "01" "a57072656673" "c414" + dev + "05" "cf0000018bcfe56800" "c4027b7d" "cf1122334455667788", 2},
      // [1, "s", bin(20), 2^64-1, -1, bin(), 0]
      {"slice_update_extremes", SliceUpdate{"s", DeviceSlice{testDevice(), UINT64_MAX, -1, {}}, 0},
       "97" "01" "a173" "c414" + dev + "cfffffffffffffffff" "ff" "c400" "00", 2},
      // [3, [["prefs", bin(20), 5, 7]]]
      {"digest", Digest{{DigestEntry{"prefs", testDevice(), 5, 7}}},
       "92" "03" "91" "94a57072656673c414" + dev + "05" "07", 2},
      // [2, ["prefs", "status"]]: the same in both versions
      {"slice_request", SliceRequest{{"prefs", "status"}}, "92" "02" "92a57072656673a6737461747573", 2},
      // [2, []]
      {"slice_request_all", SliceRequest{}, "92" "02" "90", 2},
      // [3, []]
      {"digest_empty", Digest{}, "92" "03" "90", 2},
      // Protocol 1 forms (no incarnations; they decode with incarnation 0).
      // [1, "prefs", bin(20), 5, 1700000000000, bin("{}")]
      {"slice_update_v1", SliceUpdate{"prefs", DeviceSlice{testDevice(), 5, 1700000000000, {'{', '}'}}},
       "96" "01" "a57072656673" "c414" + dev + "05" "cf0000018bcfe56800" "c4027b7d", 1},
      // [1, "s", bin(20), 2^64-1, -1, bin()]
      {"slice_update_extremes_v1", SliceUpdate{"s", DeviceSlice{testDevice(), UINT64_MAX, -1, {}}},
       "96" "01" "a173" "c414" + dev + "cfffffffffffffffff" "ff" "c400", 1},
      // [1, "s", bin(20), 0, -2^63, bin()]
      {"slice_update_min_time_v1", SliceUpdate{"s", DeviceSlice{testDevice(), 0, INT64_MIN, {}}},
       "96" "01" "a173" "c414" + dev + "00" "d38000000000000000" "c400", 1},
      // [3, [["prefs", bin(20), 5]]]
      {"digest_v1", Digest{{DigestEntry{"prefs", testDevice(), 5}}}, "92" "03" "91" "93a57072656673c414" + dev + "05", 1},
  };
}

TEST(SyncMessage, EncodesGoldenVectors) {
  for (const Golden& g : goldens()) {
    EXPECT_EQ(toHex(encodeSyncMessage(g.message, g.version)), g.hex) << g.what;
  }
}

TEST(SyncMessage, ProtocolOneLinksGetTheFormWithoutIncarnations) {
  SliceUpdate u{"prefs", DeviceSlice{testDevice(), 5, 1700000000000, {'{', '}'}}, 0x1122334455667788};
  const std::string dev(kDeviceHex);
  EXPECT_EQ(toHex(encodeSyncMessage(u, 1)), "9601a57072656673c414" + dev + "05cf0000018bcfe56800c4027b7d");
  EXPECT_EQ(encodeSyncMessage(u), encodeSyncMessage(u, kProtocolVersion)) << "the default is this build's version";
  Digest d{{DigestEntry{"prefs", testDevice(), 5, 99}}};
  auto back = decodeSyncMessage(encodeSyncMessage(d, 1));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(std::get<Digest>(*back).entries[0].incarnation, 0u) << "protocol 1 carries none";
  EXPECT_EQ(std::get<Digest>(*back).entries[0].version, 5u);
}

TEST(SyncMessage, DecodesGoldenVectors) {
  for (const Golden& g : goldens()) {
    auto decoded = decodeSyncMessage(hexBytes(g.hex));
    ASSERT_TRUE(decoded.isOk()) << g.what << ": " << decoded.status().toString();
    EXPECT_TRUE(*decoded == g.message) << g.what;
    EXPECT_EQ(syncMessageType(*decoded), syncMessageType(g.message));
  }
}

TEST(SyncMessage, NamespaceIsReservedForTheLibrary) {
  EXPECT_TRUE(validateNamespace(kSyncNamespace, /*allow_reserved=*/true).isOk());
  EXPECT_FALSE(validateNamespace(kSyncNamespace, /*allow_reserved=*/false).isOk());
}

TEST(SyncMessage, RejectsEveryTruncationAndTrailingGarbage) {
  for (const Golden& g : goldens()) {
    Bytes full = hexBytes(g.hex);
    for (size_t n = 0; n < full.size(); ++n) {
      EXPECT_FALSE(decodeSyncMessage(ByteView(full.data(), n)).isOk()) << g.what << " " << n;
    }
    EXPECT_EQ(decodeSyncMessage(hexBytes(g.hex + "c0")).status().code(), Code::kMalformed);
  }
}

struct Bad {
  const char* what;
  std::string hex;
  Code code;
};

TEST(SyncMessage, RejectsMalformedInputsWithTheRightCode) {
  const std::string dev(kDeviceHex);
  const std::vector<Bad> cases = {
      {"map instead of array", "8101c0", Code::kMalformed},
      {"empty array", "90", Code::kMalformed},
      {"unknown type", "920490", Code::kMalformed},
      {"type 0", "920090", Code::kMalformed},
      {"update 5 fields", "9601a173c414" + dev + "0000", Code::kMalformed},
      {"update 8 fields", "9801a173c414" + dev + "0000c4000000", Code::kMalformed},
      {"update incarnation nil", "9701a173c414" + dev + "0000c400c0", Code::kMalformed},
      {"update incarnation negative", "9701a173c414" + dev + "0000c400ff", Code::kMalformed},
      {"update bad store id", "9601a22e73c414" + dev + "0000c400", Code::kMalformed},
      {"update empty store id", "9601a0c414" + dev + "0000c400", Code::kMalformed},
      {"update store id 65", "9601d941" + std::string(130, '7') + "c414" + dev + "0000c400",
       Code::kTooLarge},
      {"update device 19", "9601a173c413" + dev.substr(2) + "0000c400", Code::kMalformed},
      {"update version negative", "9601a173c414" + dev + "ff00c400", Code::kMalformed},
      {"update time > int64", "9601a173c414" + dev + "00cf8000000000000000c400", Code::kMalformed},
      {"update time as str", "9601a173c414" + dev + "00a0c400", Code::kMalformed},
      {"update data as str", "9601a173c414" + dev + "0000a0", Code::kMalformed},
      {"update data bin32 header, no body", "9601a173c414" + dev + "0000c600100001",
       Code::kMalformed},
      {"request stores not array", "9202a0", Code::kMalformed},
      {"request store not str", "92029101", Code::kMalformed},
      {"request store bad syntax", "920291a3612f62", Code::kMalformed},
      {"request 3 fields", "920290c0", Code::kMalformed},
      {"request > 4096 stores", "9202dc1001", Code::kTooLarge},
      {"digest entry 2 fields", "92039192a173c414" + dev, Code::kMalformed},
      {"digest entry 5 fields", "92039195a173c414" + dev + "000000", Code::kMalformed},
      {"digest incarnation str", "92039194a173c414" + dev + "00a0", Code::kMalformed},
      {"digest entry not array", "920391a173", Code::kMalformed},
      {"digest entry map", "92039181a17300", Code::kMalformed},
      {"digest version str", "92039193a173c414" + dev + "a0", Code::kMalformed},
      {"digest > 4096 entries", "9203dd00001001", Code::kTooLarge},
      {"depth bomb", "9203" "91919191919191919191" "00", Code::kTooLarge},
      {"ext", "9202d40100", Code::kMalformed},
  };
  for (const Bad& b : cases) {
    auto r = decodeSyncMessage(hexBytes(b.hex));
    ASSERT_FALSE(r.isOk()) << b.what;
    EXPECT_EQ(r.status().code(), b.code) << b.what << ": " << r.status().toString();
  }
}

TEST(SyncMessage, LargestMessagesFitABusPayload) {
  SliceUpdate u{std::string(kMaxStoreIdLength, 's'),
                DeviceSlice{testDevice(), UINT64_MAX, INT64_MIN, Bytes(kMaxSliceData, 1)}, UINT64_MAX};
  Bytes wire = encodeSyncMessage(u);
  EXPECT_LE(wire.size(), kMaxPayloadSize);
  auto back = decodeSyncMessage(wire);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_TRUE(*back == SyncMessage(u));

  Digest d;
  for (size_t i = 0; i < kMaxSyncEntries; ++i) {
    d.entries.push_back({std::string(kMaxStoreIdLength - 5, 'd') + std::to_string(10000 + i),
                         testDevice(), UINT64_MAX - i, UINT64_MAX - i});
  }
  wire = encodeSyncMessage(d);
  EXPECT_LE(wire.size(), kMaxPayloadSize);
  back = decodeSyncMessage(wire);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_TRUE(*back == SyncMessage(d));
}

TEST(SyncMessage, ValidateRejectsOversizedOrInvalidLocalMessages) {
  SliceUpdate u{"prefs", DeviceSlice{testDevice(), 1, 0, Bytes(kMaxSliceData + 1, 0)}};
  EXPECT_EQ(validateSyncMessage(u).code(), Code::kTooLarge);
  EXPECT_EQ(validateSyncMessage(SliceRequest{{"bad id"}}).code(), Code::kInvalidArgument);
  Digest d;
  d.entries.resize(kMaxSyncEntries + 1, DigestEntry{"s", testDevice(), 1});
  EXPECT_EQ(validateSyncMessage(d).code(), Code::kTooLarge);
}

TEST(SyncMessage, RejectsSliceDataOverTheLimit) {
  // [1, "s", bin(20), 0, 0, bin32(kMaxSliceData + 1)]
  Bytes wire = hexBytes("9601a173c414" + std::string(kDeviceHex) + "0000c6");
  uint8_t len[4];
  putU32(len, static_cast<uint32_t>(kMaxSliceData + 1));
  wire.insert(wire.end(), len, len + 4);
  wire.resize(wire.size() + kMaxSliceData + 1, 0x55);
  EXPECT_EQ(decodeSyncMessage(wire).status().code(), Code::kTooLarge);
}

TEST(SyncMessage, RejectsAnOversizedInput) {
  EXPECT_EQ(decodeSyncMessage(Bytes(kMaxPayloadSize + 1, 0)).status().code(), Code::kTooLarge);
}

}  // namespace
}  // namespace meshslice
