// The tree digest of a slice (docs/PROTOCOL.md §7.6, docs/STORES.md section 5): BLAKE2b-256 of
// every kTreeBlockSize block of the data (the leaves), and a root over the size and the leaves.
// The root names the data as exactly as sliceDigest() does (both are BLAKE2b-256; equal roots
// mean equal sizes and equal leaves, so equal blocks), but after a delta it can be updated by
// rehashing only the blocks the delta changed: a block that the delta copies from the same
// offset of the base keeps the base's leaf. Pure code, thread-safe, no state.
//
// Leaves never travel: each side computes them from data it holds and keeps them beside it
// (DeltaBases on the sender, the adapter's TreeCache on the receiver), so there is no leaf data
// a peer could forge. What a forged delta can do is name a root its result does not have: it
// is refused as a digest mismatch.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "store/slice_delta.h"

namespace meshslice {

// Bytes per leaf: 4 KiB rehashes ~4 KiB per changed block (~5 µs) and keeps 32 bytes per
// 4 KiB (0.8 % of the data: 8 KiB for a 1 MiB slice).
inline constexpr size_t kTreeBlockSize = 4096;
// The root's prefix: a version tag, so another tree layout can never share a root.
inline constexpr char kTreeRootTag[16] = "meshslice-tree1";  // 15 characters and a 0 byte

struct SliceTree {
  uint64_t size = 0;                // bytes of the data the leaves describe
  std::vector<SliceDigest> leaves;  // ceil(size / kTreeBlockSize)
  SliceDigest root{};
  size_t memoryBytes() const { return leaves.size() * sizeof(SliceDigest) + sizeof(SliceTree); }
  friend bool operator==(const SliceTree&, const SliceTree&) = default;
};

// root = BLAKE2b-256(kTreeRootTag (16 bytes) || size (u64, big-endian) || leaf[0] || ...);
// leaf[i] = BLAKE2b-256(data[i * kTreeBlockSize .. min(size, (i + 1) * kTreeBlockSize))).
SliceTree sliceTree(ByteView data);
// The tree of `result`, the data `ops` rebuilt from a base whose tree is `base`: leaves of
// blocks copied unchanged from the same offset are taken from `base`, the others are rehashed.
// Equal to sliceTree(result) when `base` is the tree of the data the ops were applied to: the
// caller must know that (keep a tree only beside the exact data it was computed from), since a
// leaf taken from `base` is trusted, not recomputed.
SliceTree sliceTreeAfter(const SliceTree& base, ByteView result, const std::vector<DeltaOp>& ops);

}  // namespace meshslice
