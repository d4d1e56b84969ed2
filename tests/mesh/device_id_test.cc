#include "mesh/device_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>

namespace meshslice {
namespace {

Key32 keyFromHex(std::string_view hex) {
  Bytes b;
  EXPECT_TRUE(fromHex(hex, b));
  Key32 k{};
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

// Alice's X25519 public key from RFC 7748 section 6.1.
constexpr std::string_view kAlicePublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

// Expected values computed independently in Python 3 (hashlib + base64, own Luhn code):
//   d = hashlib.blake2b(b"meshslice-device-id-v1" + pk, digest_size=32).digest()[:20]
//   b = base64.b32encode(d).decode()              # 32 chars, no padding needed
//   groups of 8, each + luhn(group), where luhn walks right to left with factors 2,1,2,...,
//   adds a//32 + a%32 of each product and picks (32 - total % 32) % 32.
constexpr std::string_view kAliceIdHex = "418548074722e957c713ab3f9919db83720fa70e";
constexpr std::string_view kAliceIdText = "IGCUQB2HH-ELUVPRYTW-VM7ZSGO36-QNZA7JYOY";
// Same computation for the public key 00 01 02 ... 1f.
constexpr std::string_view kCountingIdText = "VNV3MG5BO-TWTY7ZDJV-PDKVXYWVN-P5J5NNCYY";

TEST(DeviceId, DerivesFromPublicKeyAsDocumented) {
  DeviceId id = DeviceId::fromPublicKey(keyFromHex(kAlicePublic));
  EXPECT_EQ(toHex(id.view()), kAliceIdHex);
  EXPECT_EQ(id.toString(), kAliceIdText);
  EXPECT_EQ(id.toString().size(), DeviceId::kTextLength);
  EXPECT_EQ(id.shortString(), "IGCUQB2HH");
  Key32 counting;
  for (size_t i = 0; i < counting.size(); ++i) counting[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(DeviceId::fromPublicKey(counting).toString(), kCountingIdText);
}

TEST(DeviceId, ParsesItsOwnTextForm) {
  auto parsed = DeviceId::parse(kAliceIdText);
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(toHex(parsed->view()), kAliceIdHex);
}

TEST(DeviceId, ParseAcceptsLowerCaseAndMissingDashes) {
  std::string lower(kAliceIdText);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(c)); });
  std::string no_dashes(kAliceIdText);
  std::erase(no_dashes, '-');
  for (const std::string& text : {lower, no_dashes}) {
    auto parsed = DeviceId::parse(text);
    ASSERT_TRUE(parsed.isOk()) << text << ": " << parsed.status().toString();
    EXPECT_EQ(parsed->toString(), kAliceIdText);
  }
}

TEST(DeviceId, ParseRejectsWrongLengthAndCharacters) {
  EXPECT_EQ(DeviceId::parse("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(DeviceId::parse(kAliceIdText.substr(0, 38)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(DeviceId::parse(std::string(kAliceIdText) + "A").status().code(),
            Code::kInvalidArgument);
  auto bad_char = DeviceId::parse("IGCUQB2HH-ELUVPRYTW-VM7ZSGO36-QNZA7JYO1");
  EXPECT_NE(bad_char.status().message().find("invalid character"), std::string::npos);
  EXPECT_FALSE(DeviceId::parse(std::string(1000, 'A')).isOk());
}

TEST(DeviceId, EverySingleCharacterSubstitutionIsDetected) {
  const std::string valid(kAliceIdText);
  const std::string candidates = "ABCDEFGHIJKLMNOPQRSTUVWXYZ2345670189";
  int checked = 0;
  for (size_t pos = 0; pos < valid.size(); ++pos) {
    if (valid[pos] == '-') continue;
    for (char c : candidates) {
      if (c == valid[pos]) continue;
      std::string typo = valid;
      typo[pos] = c;
      auto parsed = DeviceId::parse(typo);
      EXPECT_FALSE(parsed.isOk()) << "typo not detected: " << typo;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 36 * 35);
}

TEST(DeviceId, ReportsWhichGroupHasATypo) {
  std::string typo(kAliceIdText);
  typo[11] = typo[11] == 'A' ? 'B' : 'A';  // in group 2
  auto parsed = DeviceId::parse(typo);
  ASSERT_FALSE(parsed.isOk());
  EXPECT_NE(parsed.status().message().find("group 2"), std::string::npos)
      << parsed.status().message();
}

TEST(DeviceId, RoundTripsManyKeys) {
  Key32 key{};
  for (int i = 0; i < 200; ++i) {
    key[i % 32] = static_cast<uint8_t>(key[i % 32] * 31 + i);
    DeviceId id = DeviceId::fromPublicKey(key);
    auto parsed = DeviceId::parse(id.toString());
    ASSERT_TRUE(parsed.isOk());
    EXPECT_EQ(*parsed, id);
  }
}

TEST(DeviceId, ComparesAndHashesByBytes) {
  DeviceId a = DeviceId::fromPublicKey(keyFromHex(kAlicePublic));
  DeviceId b = DeviceId::fromPublicKey(Key32{});
  EXPECT_NE(a, b);
  EXPECT_EQ(a, DeviceId(a.bytes()));
  EXPECT_TRUE((a < b) != (b < a));
  std::unordered_set<DeviceId> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(DeviceId().isZero());
  EXPECT_FALSE(a.isZero());
}

TEST(DeviceId, FromBytesNeedsExactlyTwentyBytes) {
  Bytes twenty(20, 7);
  EXPECT_TRUE(DeviceId::fromBytes(twenty).isOk());
  Bytes nineteen(19, 7);
  EXPECT_EQ(DeviceId::fromBytes(nineteen).status().code(), Code::kMalformed);
}

TEST(LuhnBase32, MatchesHandComputedCheckCharacter) {
  // "AAAAAAAB": only the rightmost value (1) is non-zero and it is doubled: total 2, so the
  // check value is 30 = '6'.
  EXPECT_EQ(luhnBase32CheckChar("AAAAAAAB"), '6');
  // "AAAAAABA": value 1 with factor 1: total 1, check 31 = '7'.
  EXPECT_EQ(luhnBase32CheckChar("AAAAAABA"), '7');
  // '7' (31) doubled is 62 = 1*32 + 30, folded to 1 + 30 = 31: check 1 = 'B'.
  EXPECT_EQ(luhnBase32CheckChar("AAAAAAA7"), 'B');
  EXPECT_EQ(luhnBase32CheckChar("AAAAAAAA"), 'A');
}

}  // namespace
}  // namespace meshslice
