#include "store/slice_tree.h"

#include <sodium.h>

#include <algorithm>

namespace meshslice {

namespace {

size_t blockCount(uint64_t size) { return static_cast<size_t>((size + kTreeBlockSize - 1) / kTreeBlockSize); }

uint64_t blockLength(uint64_t size, size_t i) {
  const uint64_t start = uint64_t(i) * kTreeBlockSize;
  return std::min<uint64_t>(kTreeBlockSize, size - start);
}

SliceDigest leafOf(ByteView data, size_t i) {
  SliceDigest out;
  const uint64_t start = uint64_t(i) * kTreeBlockSize;
  crypto_generichash(out.data(), out.size(), data.data() + start, blockLength(data.size(), i), nullptr, 0);
  return out;
}

SliceDigest rootOf(uint64_t size, const std::vector<SliceDigest>& leaves) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kSliceDigestSize);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(kTreeRootTag), sizeof(kTreeRootTag));
  uint8_t be[8];
  for (int i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(size >> (56 - 8 * i));
  crypto_generichash_update(&st, be, sizeof(be));
  if (!leaves.empty())
    crypto_generichash_update(&st, leaves.front().data(), leaves.size() * sizeof(SliceDigest));
  SliceDigest out;
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

}  // namespace

static_assert(sizeof(kTreeRootTag) == 16 && sizeof(SliceDigest) == kSliceDigestSize,
              "the root hashes the leaves as one contiguous run");

SliceTree sliceTree(ByteView data) {
  SliceTree t;
  t.size = data.size();
  t.leaves.resize(blockCount(t.size));
  for (size_t i = 0; i < t.leaves.size(); ++i) t.leaves[i] = leafOf(data, i);
  t.root = rootOf(t.size, t.leaves);
  return t;
}

SliceTree sliceTreeAfter(const SliceTree& base, ByteView result, const std::vector<DeltaOp>& ops) {
  SliceTree t;
  t.size = result.size();
  const size_t n = blockCount(t.size);
  std::vector<bool> kept(n, false);
  uint64_t at = 0;  // offset in the result
  for (const DeltaOp& op : ops) {
    const uint64_t length = op.copy ? op.length : op.literal.size();
    if (op.copy && op.offset == at) {
      // Blocks wholly inside [at, at + length) that have the same extent in the base.
      for (size_t i = blockCount(at); i < n && uint64_t(i) * kTreeBlockSize < at + length; ++i) {
        const uint64_t len = blockLength(t.size, i);
        if (uint64_t(i) * kTreeBlockSize + len > at + length) break;
        kept[i] = i < base.leaves.size() && blockLength(base.size, i) == len;
      }
    }
    at += length;
  }
  t.leaves.resize(n);
  for (size_t i = 0; i < n; ++i) t.leaves[i] = kept[i] ? base.leaves[i] : leafOf(result, i);
  t.root = rootOf(t.size, t.leaves);
  return t;
}

}  // namespace meshslice
