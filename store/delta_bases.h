// DeltaBases: the versions of its own slices a sender keeps so that it can send a peer that
// holds one of them a delta instead of the whole slice (store/slice_delta.h, docs/STORES.md
// section 5). One per StoreSyncAdapter, shared by all peers: peers normally hold the version
// sent last, so one or two versions per store serve every peer.
//
// Bounded: at most kDeltaBasesPerStore versions per store (each with its tree, 0.8 % of its
// size, store/slice_tree.h) and kMaxDeltaBaseBytes in all; past
// the total, the least recently used version goes first. A peer whose base is no longer kept
// gets the full slice. Slices smaller than kMinDeltaSliceSize are never kept (they always go
// in full). Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "store/slice_delta.h"
#include "store/slice_tree.h"

namespace meshslice {

// Slices below this size always travel in full: a delta would save little and cost a digest.
inline constexpr size_t kMinDeltaSliceSize = 4096;
// Versions kept per store: the newest sent and three before it, for peers that fall behind
// (a peer that is owed gets every few versions only; its base is the one sent to it last).
inline constexpr size_t kDeltaBasesPerStore = 4;
// Bytes of base data kept across all stores of an adapter.
inline constexpr size_t kMaxDeltaBaseBytes = 8 * 1024 * 1024;
// Diffs tried per version of a store that may give no delta worth sending; past it, peers with
// other bases get the full slice at once. Peers that fell behind by different numbers of
// versions each need their own diff, and one that fails costs up to a chunk pass (~2 ms per MiB).
inline constexpr size_t kMaxFailedDiffsPerVersion = 1;

class DeltaBases {
 public:
  using Data = std::shared_ptr<const Bytes>;

  // Keeps `data` as `version` of `store` (a local slice that was just sent). Ignored below
  // kMinDeltaSliceSize or if that version is kept already. Past kDeltaBasesPerStore the oldest
  // version that no peer is known to hold (`held`: the versions peers hold now) goes first.
  void retain(const std::string& store, uint64_t version, Data data, const std::vector<uint64_t>& held = {});
  // The kept data of that version, or null.
  Data find(const std::string& store, uint64_t version);
  // The digest of `data` as `version` of `store`, computed once per version.
  const SliceDigest& digestOf(const std::string& store, uint64_t version, ByteView data);
  // The tree of `data` as `version` of `store`, computed once per version: from the kept tree
  // of `base` and the `ops` that rebuild `data` from it (a rehash of the changed blocks only),
  // or from `data` if that base has no tree. Kept with the version when it is retained.
  const SliceTree& treeOf(const std::string& store, uint64_t version, ByteView data, uint64_t base,
                          const std::vector<DeltaOp>& ops);
  // No delta from `base` to the current `version` of `store` was worth sending: remembered for
  // that version, so other peers and later flushes do not try the same diff again.
  void noDelta(const std::string& store, uint64_t base, uint64_t version);
  // Whether a diff from `base` to `version` is not worth trying: it failed before, or
  // kMaxFailedDiffsPerVersion diffs to that version failed.
  bool knownNoDelta(const std::string& store, uint64_t base, uint64_t version) const;
  void forgetStore(const std::string& store);
  void clear();
  size_t bytes() const { return bytes_; }
  size_t versions() const;

 private:
  using Tree = std::shared_ptr<const SliceTree>;
  struct Kept {
    uint64_t version = 0;
    Data data;
    Tree tree;  // may be null: computed from data when first needed
    uint64_t used = 0;
    size_t bytes() const { return data->size() + (tree ? tree->memoryBytes() : 0); }
  };
  void evictOverBudget();

  std::map<std::string, std::deque<Kept>> kept_;
  std::map<std::string, std::pair<uint64_t, SliceDigest>> digests_;
  std::map<std::string, std::pair<uint64_t, Tree>> trees_;  // of the version being sent
  std::map<std::string, std::pair<uint64_t, std::vector<uint64_t>>> no_delta_;  // version, bases
  size_t bytes_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace meshslice
