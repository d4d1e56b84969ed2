// RemoteTrees: the tree digests (store/slice_tree.h) of the remote slices a receiver got as
// tree-checked deltas, so that the next delta to such a slice rehashes only the blocks it
// changes (docs/STORES.md section 5). One per StoreSyncAdapter, loop thread only.
//
// An entry names the exact data it was computed from: (store, owner, version, incarnation),
// and the adapter drops it whenever that slice changes by any other path (a full slice), so a
// tree is never used beside other data. Bounded: kMaxRemoteTreeBytes in all (8 KiB per 1 MiB
// slice: 512 such slices), least recently used first out; a missing tree costs one full hash
// of the base, never a refusal.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "mesh/device_id.h"
#include "store/slice_tree.h"

namespace meshslice {

inline constexpr size_t kMaxRemoteTreeBytes = 4 * 1024 * 1024;

class RemoteTrees {
 public:
  // The tree of `owner`'s slice of `store` at exactly that version and incarnation, or null.
  const SliceTree* find(const std::string& store, const DeviceId& owner, uint64_t version, uint64_t incarnation);
  void put(const std::string& store, const DeviceId& owner, uint64_t version, uint64_t incarnation, SliceTree tree);
  // The slice changed by another path (or went away): its tree no longer describes it.
  void drop(const std::string& store, const DeviceId& owner);
  void dropStore(const std::string& store);
  void clear();
  size_t bytes() const { return bytes_; }
  size_t size() const { return trees_.size(); }

 private:
  struct Entry {
    uint64_t version = 0;
    uint64_t incarnation = 0;
    SliceTree tree;
    uint64_t used = 0;
  };
  using Key = std::pair<std::string, DeviceId>;
  void erase(std::map<Key, Entry>::iterator it);

  std::map<Key, Entry> trees_;
  size_t bytes_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace meshslice
