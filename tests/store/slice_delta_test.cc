#include "store/slice_delta.h"

#include <gtest/gtest.h>

#include "tests/support/hex_bytes.h"

#include <random>
#include <string>

namespace meshslice {
namespace {

using test::hexBytes;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

DeviceId testDevice() {
  DeviceId::Raw raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i + 1);
  return DeviceId(raw);
}

DeltaOp copyOp(uint64_t offset, uint64_t length) {
  DeltaOp op;
  op.copy = true;
  op.offset = offset;
  op.length = length;
  return op;
}
DeltaOp literalOp(std::string_view s) {
  DeltaOp op;
  op.literal = text(s);
  return op;
}

// "abzz" -> "abcd": copy the first 2 bytes of the base, then the literal "cd".
SliceDelta goldenDelta() {
  SliceDelta d;
  d.store_id = "s";
  d.device_id = testDevice();
  d.base_version = 5;
  d.base_incarnation = 7;
  d.version = 6;
  d.updated_at = 1700000000000;
  d.incarnation = 7;
  d.size = 4;
  d.digest = sliceDigest(text("abcd"));
  d.ops = {copyOp(0, 2), literalOp("cd")};
  return d;
}

// Written by hand from the msgpack spec (docs/PROTOCOL.md §7.4): 9b = fixarray of 11,
// c4 20 = bin8 of 32 bytes, the BLAKE2b-256 of "abcd" from an independent implementation.
constexpr std::string_view kGoldenDeltaHex =
    "9b" "06" "a173" "c414" "0102030405060708090a0b0c0d0e0f1011121314" "05" "07" "06" "cf0000018bcfe56800" "07" "04"
    "c420" "9cc3912a042827e45983ed53df3c759f4574added1d07c6d0c7fe0bc3ecf9c42"
    "92" "920002" "c4026364";
constexpr std::string_view kGoldenRefusedHex = "94" "07" "a57072656673" "06" "02";

TEST(SliceDelta, DigestIsBlake2b256OfTheData) {
  EXPECT_EQ(toHex(ByteView(sliceDigest(text("abcd")).data(), kSliceDigestSize)),
            "9cc3912a042827e45983ed53df3c759f4574added1d07c6d0c7fe0bc3ecf9c42");
}

TEST(SliceDelta, GoldenVectorsEncodeAndDecode) {
  EXPECT_EQ(toHex(encodeDeltaMessage(goldenDelta())), kGoldenDeltaHex);
  auto d = decodeDeltaMessage(hexBytes(kGoldenDeltaHex));
  ASSERT_TRUE(d.isOk()) << d.status().toString();
  EXPECT_EQ(std::get<SliceDelta>(d.value()), goldenDelta());
  const DeltaRefused refused{"prefs", 6, DeltaRefusal::kDigestMismatch};
  EXPECT_EQ(toHex(encodeDeltaMessage(refused)), kGoldenRefusedHex);
  auto r = decodeDeltaMessage(hexBytes(kGoldenRefusedHex));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(std::get<DeltaRefused>(r.value()), refused);
}

TEST(SliceDelta, GoldenDeltaAppliesOnItsBase) {
  auto data = applySliceDelta(text("abzz"), goldenDelta());
  ASSERT_TRUE(data.isOk()) << data.status().toString();
  EXPECT_EQ(data.value(), text("abcd"));
}

TEST(SliceDelta, PeekFindsTheTypeInAnyIntegerForm) {
  EXPECT_EQ(peekSyncMessageType(hexBytes(kGoldenDeltaHex)), 6u);
  EXPECT_EQ(peekSyncMessageType(hexBytes("92cc0790")), 7u);      // uint8 form
  EXPECT_EQ(peekSyncMessageType(hexBytes("dc0002cd000690")), 6u);  // array16, uint16
  EXPECT_EQ(peekSyncMessageType(hexBytes("920190")), 1u);
  EXPECT_FALSE(peekSyncMessageType(hexBytes("")).has_value());
  EXPECT_FALSE(peekSyncMessageType(hexBytes("90")).has_value());
  EXPECT_FALSE(peekSyncMessageType(hexBytes("81a16101")).has_value());  // a map
  EXPECT_FALSE(peekSyncMessageType(hexBytes("92cd00")).has_value());    // truncated
  EXPECT_FALSE(peekSyncMessageType(hexBytes("92ff")).has_value());      // negative
  EXPECT_TRUE(isDeltaMessage(hexBytes(kGoldenRefusedHex)));
  EXPECT_FALSE(isDeltaMessage(hexBytes("920290")));
}

TEST(SliceDelta, DecoderRejectsMalformedMessages) {
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"wrong arity", "9a06a173"},
      {"refused arity", "9307a1730602"},
      {"refusal reason 0", "9407a1730600"},
      {"refusal reason 4", "9407a1730604"},
      {"empty copy", std::string(kGoldenDeltaHex.substr(0, kGoldenDeltaHex.size() - 16)) + "92920000c4026364"},
      {"empty literal", std::string(kGoldenDeltaHex.substr(0, kGoldenDeltaHex.size() - 16)) + "92920002c400"},
      {"copy of 3 elements", std::string(kGoldenDeltaHex.substr(0, kGoldenDeltaHex.size() - 16)) + "9293000200c4026364"},
      {"op is a str", std::string(kGoldenDeltaHex.substr(0, kGoldenDeltaHex.size() - 16)) + "92920002a26364"},
      {"short digest", "9b06a173c414" + std::string("0102030405060708090a0b0c0d0e0f1011121314") +
                           "050706cf0000018bcfe567000704c41f" + std::string(62, '0') + "90"},
      {"trailing bytes", std::string(kGoldenRefusedHex) + "00"},
  };
  for (const auto& [what, hex] : bad) {
    auto r = decodeDeltaMessage(hexBytes(hex));
    EXPECT_FALSE(r.isOk()) << what;
  }
  // A size above the slice limit decodes (so that the receiver can refuse it by name) and is
  // refused when applied.
  SliceDelta d = goldenDelta();
  std::string hex = toHex(encodeDeltaMessage(d));
  const std::string size_field = "0704c420";  // incarnation 7, size 4, digest header
  ASSERT_NE(hex.find(size_field), std::string::npos);
  hex.replace(hex.find(size_field), size_field.size(), "07ce00100001c420");  // 1 MiB + 1
  auto r = decodeDeltaMessage(hexBytes(hex));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  DeltaRefusal why = DeltaRefusal::kUnknownBase;
  EXPECT_FALSE(applySliceDelta(text("abzz"), std::get<SliceDelta>(r.value()), &why).isOk());
  EXPECT_EQ(why, DeltaRefusal::kMalformed);
}

TEST(SliceDelta, ApplyRefusesWhatDoesNotFitTheBase) {
  const Bytes base = text("abzz");
  struct Case {
    const char* what;
    std::vector<DeltaOp> ops;
    uint64_t size;
    DeltaRefusal reason;
  };
  const std::vector<Case> cases = {
      {"copy past the base end", {copyOp(2, 3), literalOp("d")}, 4, DeltaRefusal::kMalformed},
      {"copy offset beyond the base", {copyOp(9, 1)}, 1, DeltaRefusal::kMalformed},
      {"offset + length wraps", {copyOp(UINT64_MAX, 2)}, 2, DeltaRefusal::kMalformed},
      {"result longer than declared", {copyOp(0, 2), literalOp("cde")}, 4, DeltaRefusal::kMalformed},
      {"result shorter than declared", {copyOp(0, 2)}, 4, DeltaRefusal::kMalformed},
      {"size over the slice limit", {copyOp(0, 2)}, kMaxSliceData + 1, DeltaRefusal::kMalformed},
      {"a zero-length copy", {copyOp(0, 0), copyOp(0, 2), literalOp("cd")}, 4, DeltaRefusal::kMalformed},
      {"other data than the digest", {copyOp(0, 2), literalOp("ce")}, 4, DeltaRefusal::kDigestMismatch},
  };
  for (const Case& c : cases) {
    SliceDelta d = goldenDelta();
    d.ops = c.ops;
    d.size = c.size;
    DeltaRefusal why = DeltaRefusal::kUnknownBase;
    auto r = applySliceDelta(base, d, &why);
    ASSERT_FALSE(r.isOk()) << c.what;
    EXPECT_EQ(why, c.reason) << c.what;
  }
  // The right ops on another base: the digest catches it.
  DeltaRefusal why = DeltaRefusal::kUnknownBase;
  EXPECT_FALSE(applySliceDelta(text("xyzz"), goldenDelta(), &why).isOk());
  EXPECT_EQ(why, DeltaRefusal::kDigestMismatch);
}

// Random edits of every kind the diff handles; the ops must rebuild the target exactly.
Bytes randomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

Bytes edit(std::mt19937_64& rng, Bytes data, int kind) {
  auto at = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
  switch (kind) {
    case 0:  // one byte
      if (!data.empty()) data[at(data.size())] ^= 0x5a;
      break;
    case 1:  // scattered runs overwritten in place
      for (int i = 0; i < 8 && data.size() > 64; ++i) {
        const size_t p = at(data.size() - 64);
        for (size_t j = 0; j < 1 + at(64); ++j) data[p + j] = static_cast<uint8_t>(rng());
      }
      break;
    case 2: {  // an insertion
      const Bytes ins = randomBytes(rng, 1 + at(300));
      data.insert(data.begin() + static_cast<ptrdiff_t>(at(data.size() + 1)), ins.begin(), ins.end());
      break;
    }
    case 3: {  // a deletion
      if (data.empty()) break;
      const size_t p = at(data.size()), n = std::min(data.size() - p, 1 + at(500));
      data.erase(data.begin() + static_cast<ptrdiff_t>(p), data.begin() + static_cast<ptrdiff_t>(p + n));
      break;
    }
    case 4: {  // a block moved to the front
      if (data.size() < 2048) break;
      const size_t p = 1024 + at(data.size() - 2048);
      Bytes block(data.begin() + static_cast<ptrdiff_t>(p), data.begin() + static_cast<ptrdiff_t>(p + 1024));
      data.erase(data.begin() + static_cast<ptrdiff_t>(p), data.begin() + static_cast<ptrdiff_t>(p + 1024));
      data.insert(data.begin(), block.begin(), block.end());
      break;
    }
    default:  // everything new
      data = randomBytes(rng, data.size());
  }
  return data;
}

TEST(SliceDelta, RandomEditsRebuildTheTargetByteForByte) {
  std::mt19937_64 rng(20);
  for (int round = 0; round < 300; ++round) {
    const size_t size = round % 3 == 0 ? rng() % 100 : 1000 + rng() % 100000;
    Bytes base = randomBytes(rng, size);
    Bytes target = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) target = edit(rng, std::move(target), static_cast<int>(rng() % 6));
    auto ops = computeDeltaOps(base, target, kMaxSliceData * 2);
    ASSERT_TRUE(ops.has_value()) << "round " << round;
    SliceDelta d = goldenDelta();
    d.ops = *ops;
    d.size = target.size();
    d.digest = sliceDigest(target);
    ASSERT_TRUE(validateDeltaMessage(d).isOk()) << "round " << round;
    auto decoded = decodeDeltaMessage(encodeDeltaMessage(d));
    ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
    auto rebuilt = applySliceDelta(base, std::get<SliceDelta>(decoded.value()));
    ASSERT_TRUE(rebuilt.isOk()) << "round " << round << ": " << rebuilt.status().toString();
    ASSERT_EQ(rebuilt.value(), target) << "round " << round;
    SliceDelta header = d;
    header.ops.clear();
    EXPECT_EQ(encodeDeltaMessage(d).size(), encodeDeltaMessage(header).size() - 1 + encodedOpsSize(*ops))
        << "encodedOpsSize() is exact";
  }
}

TEST(SliceDelta, SmallEditsOfALargeSliceGiveSmallDeltas) {
  std::mt19937_64 rng(7);
  const Bytes base = randomBytes(rng, kMaxSliceData);
  Bytes one = base;
  one[123456] ^= 1;
  auto ops = computeDeltaOps(base, one, kMaxSliceData);
  ASSERT_TRUE(ops.has_value());
  EXPECT_LE(encodedOpsSize(*ops), 32u) << "one byte: two copies and a literal";
  Bytes inserted = base;
  inserted.insert(inserted.begin() + 5000, 100, 0x42);
  ops = computeDeltaOps(base, inserted, kMaxSliceData);
  ASSERT_TRUE(ops.has_value());
  EXPECT_LE(encodedOpsSize(*ops), 140u) << "an insertion: the inserted bytes and two copies";
  Bytes moved = edit(rng, base, 4);
  ops = computeDeltaOps(base, moved, kMaxSliceData);
  ASSERT_TRUE(ops.has_value());
  EXPECT_LE(encodedOpsSize(*ops), 4096u) << "a moved block is found by the chunk index";
}

TEST(SliceDelta, GivesUpPastTheBudget) {
  std::mt19937_64 rng(9);
  const Bytes base = randomBytes(rng, 65536);
  const Bytes other = randomBytes(rng, 65536);
  EXPECT_FALSE(computeDeltaOps(base, other, 65536 / 4).has_value());
  Bytes half = base;
  for (size_t i = 0; i < half.size(); i += 2) half[i] ^= 0xff;  // 50 % changed, scattered
  EXPECT_FALSE(computeDeltaOps(base, half, 65536 / 4).has_value());
  EXPECT_TRUE(computeDeltaOps(base, base, 16).has_value()) << "equal data: one copy";
}

}  // namespace
}  // namespace meshslice
