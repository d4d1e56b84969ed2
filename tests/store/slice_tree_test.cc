#include "store/slice_tree.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/bytes.h"

namespace meshslice {
namespace {

Bytes randomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

std::string hexOf(const SliceDigest& d) { return toHex(ByteView(d.data(), d.size())); }

// Independent values: Python's hashlib.blake2b(digest_size=32) over the layout of
// docs/PROTOCOL.md §7.6 (the leaves, then the tag, the big-endian size and the leaves).
TEST(SliceTree, GoldenRootsMatchAnIndependentImplementation) {
  EXPECT_EQ(hexOf(sliceTree({}).root), "a648c49872961d86064497193601f79dfffdea21aec341349fda3a1165d428ac");
  const Bytes abcd{'a', 'b', 'c', 'd'};
  const SliceTree t = sliceTree(abcd);
  ASSERT_EQ(t.leaves.size(), 1u);
  EXPECT_EQ(t.leaves[0], sliceDigest(abcd)) << "a leaf is the plain BLAKE2b-256 of its block";
  EXPECT_EQ(hexOf(t.root), "cfa376ed6db7e18033cdf1357e62d642284a95e94341eaaca536333eb5ca40f4");
  Bytes two(5000);
  for (size_t i = 0; i < two.size(); ++i) two[i] = static_cast<uint8_t>(i % 251);
  const SliceTree t2 = sliceTree(two);
  ASSERT_EQ(t2.leaves.size(), 2u);
  EXPECT_EQ(hexOf(t2.leaves[1]), "da688d37fd340e385bba6e9ba9f778d66255d62098f669098862585906346f89");
  EXPECT_EQ(hexOf(t2.root), "a2e8af461e5518aaf38f49d88f9a5e01e22166cd9f996f0d02a938d0f8fd829f");
}

// docs/PROTOCOL.md §7.6: the §7.4 golden delta ("abzz" -> "abcd") as type 8, by hand from the
// msgpack spec: only the type and the digest (the tree root of "abcd" above) differ.
TEST(SliceTree, GoldenTreeDeltaEncodesDecodesAndApplies) {
  constexpr std::string_view kHex =
      "9b" "08" "a173" "c414" "0102030405060708090a0b0c0d0e0f1011121314" "05" "07" "06" "cf0000018bcfe56800" "07" "04"
      "c420" "cfa376ed6db7e18033cdf1357e62d642284a95e94341eaaca536333eb5ca40f4"
      "92" "920002" "c4026364";
  SliceDelta d;
  d.store_id = "s";
  DeviceId::Raw raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i + 1);
  d.device_id = DeviceId(raw);
  d.base_version = 5, d.base_incarnation = 7, d.version = 6, d.incarnation = 7;
  d.updated_at = 1700000000000;
  d.size = 4;
  d.digest_kind = DeltaDigest::kTree;
  d.digest = sliceTree(Bytes{'a', 'b', 'c', 'd'}).root;
  DeltaOp copy;
  copy.copy = true, copy.offset = 0, copy.length = 2;
  DeltaOp literal;
  literal.literal = {'c', 'd'};
  d.ops = {copy, literal};
  EXPECT_EQ(toHex(encodeDeltaMessage(d)), kHex);
  auto decoded = decodeDeltaMessage(encodeDeltaMessage(d));
  ASSERT_TRUE(decoded.isOk());
  EXPECT_EQ(std::get<SliceDelta>(decoded.value()).digest_kind, DeltaDigest::kTree);
  EXPECT_TRUE(isDeltaMessage(encodeDeltaMessage(d)));
  auto out = applySliceDelta(Bytes{'a', 'b', 'z', 'z'}, d);
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(out.value(), (Bytes{'a', 'b', 'c', 'd'}));
  d.digest_kind = DeltaDigest::kValue;  // the tree root is not a type 6 digest
  EXPECT_FALSE(applySliceDelta(Bytes{'a', 'b', 'z', 'z'}, d).isOk());
}

TEST(SliceTree, TheRootNamesTheSizeAndEveryBlock) {
  std::mt19937_64 rng(3);
  const Bytes a = randomBytes(rng, 3 * kTreeBlockSize);
  Bytes b = a;
  b.back() ^= 1;
  EXPECT_NE(sliceTree(a).root, sliceTree(b).root);
  Bytes shorter(a.begin(), a.end() - 1);
  EXPECT_NE(sliceTree(a).root, sliceTree(shorter).root);
  EXPECT_NE(sliceTree(a).root, sliceDigest(a)) << "another digest than type 6's";
}

// Edits of every kind (in place, insertions, deletions, growth across a block boundary,
// truncation): the tree updated from the base's leaves equals a full recompute, and a delta
// of type 8 carrying that root applies.
TEST(SliceTree, IncrementalUpdateEqualsAFullRecomputeOnRandomEdits) {
  std::mt19937_64 rng(20);
  for (int round = 0; round < 200; ++round) {
    const size_t size = round % 5 == 0 ? rng() % 9000 : 4096 + rng() % 200000;
    const Bytes base = randomBytes(rng, size);
    Bytes target = base;
    for (int e = 0, n = 1 + static_cast<int>(rng() % 3); e < n; ++e) {
      const size_t at = target.empty() ? 0 : rng() % target.size();
      switch (rng() % 5) {
        case 0: if (!target.empty()) target[at] ^= static_cast<uint8_t>(1 + rng() % 255); break;
        case 1: target.insert(target.begin() + at, 1 + rng() % 50, 0x5a); break;
        case 2: target.erase(target.begin() + at, target.begin() + std::min(target.size(), at + rng() % 300)); break;
        case 3: { Bytes more = randomBytes(rng, rng() % 9000); target.insert(target.end(), more.begin(), more.end()); break; }
        default: target.resize(target.size() - std::min(target.size(), rng() % 5000));
      }
    }
    auto ops = computeDeltaOps(base, target, kMaxSliceData * 2);
    ASSERT_TRUE(ops.has_value()) << "round " << round;
    const SliceTree base_tree = sliceTree(base);
    const SliceTree full = sliceTree(target);
    ASSERT_EQ(sliceTreeAfter(base_tree, target, *ops), full) << "round " << round;

    SliceDelta d;
    d.store_id = "s";
    d.base_version = 1, d.base_incarnation = 1, d.version = 2, d.incarnation = 1;
    d.size = target.size();
    d.digest_kind = DeltaDigest::kTree;
    d.digest = full.root;
    d.ops = *ops;
    auto decoded = decodeDeltaMessage(encodeDeltaMessage(d));
    ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
    ASSERT_EQ(std::get<SliceDelta>(decoded.value()), d) << "type 8 round-trips with its kind";
    SliceTree result_tree;
    auto rebuilt = applySliceDelta(base, d, nullptr, round % 2 ? &base_tree : nullptr, &result_tree);
    ASSERT_TRUE(rebuilt.isOk()) << "round " << round << ": " << rebuilt.status().toString();
    EXPECT_EQ(rebuilt.value(), target);
    EXPECT_EQ(result_tree, full);
  }
}

TEST(SliceTree, AOneByteEditRehashesOneBlock) {
  std::mt19937_64 rng(1);
  const Bytes base = randomBytes(rng, kMaxSliceData);
  Bytes target = base;
  target[700000] ^= 1;
  auto ops = computeDeltaOps(base, target, kMaxSliceData);
  ASSERT_TRUE(ops.has_value());
  const SliceTree base_tree = sliceTree(base);
  // A base tree with every leaf but the edited block's wrong: only that block may be rehashed,
  // so the update then differs from the full recompute in every other leaf.
  SliceTree poisoned = base_tree;
  for (size_t i = 0; i < poisoned.leaves.size(); ++i)
    if (i != 700000 / kTreeBlockSize) poisoned.leaves[i][0] ^= 1;
  const SliceTree after = sliceTreeAfter(poisoned, target, *ops);
  size_t rehashed = 0;
  for (size_t i = 0; i < after.leaves.size(); ++i) rehashed += after.leaves[i] != poisoned.leaves[i];
  EXPECT_EQ(rehashed, 1u);
  EXPECT_EQ(sliceTreeAfter(base_tree, target, *ops), sliceTree(target));
}

// Hostile type 8 deltas: a root the result does not have, ops that change a block while the
// root claims the old one, a delta shifted by one byte: refused as a digest mismatch.
TEST(SliceTree, ATreeDeltaWhoseRootDoesNotMatchTheResultIsRefused) {
  std::mt19937_64 rng(5);
  const Bytes base = randomBytes(rng, 64 * 1024);
  Bytes target = base;
  target[10] ^= 1;
  auto ops = computeDeltaOps(base, target, kMaxSliceData);
  ASSERT_TRUE(ops.has_value());
  SliceDelta d;
  d.store_id = "s";
  d.size = target.size();
  d.digest_kind = DeltaDigest::kTree;
  d.ops = *ops;
  const SliceTree base_tree = sliceTree(base);
  for (const SliceDigest& claimed : {sliceDigest(target), base_tree.root, SliceDigest{}}) {
    d.digest = claimed;
    DeltaRefusal why = DeltaRefusal::kUnknownBase;
    auto out = applySliceDelta(base, d, &why, &base_tree);
    ASSERT_FALSE(out.isOk());
    EXPECT_EQ(why, DeltaRefusal::kDigestMismatch);
  }
  // The right root, but ops that yield other data: the changed block is rehashed.
  d.digest = sliceTree(target).root;
  SliceDelta wrong = d;
  wrong.ops = *computeDeltaOps(base, base, kMaxSliceData);
  DeltaRefusal why = DeltaRefusal::kUnknownBase;
  EXPECT_FALSE(applySliceDelta(base, wrong, &why, &base_tree).isOk());
  EXPECT_EQ(why, DeltaRefusal::kDigestMismatch);
}

}  // namespace
}  // namespace meshslice
