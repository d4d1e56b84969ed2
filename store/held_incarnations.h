// HeldIncarnations: for each remote slice a node holds, the incarnation its owner stamped it
// with (SliceUpdate::incarnation; 0 = unknown). The node reports it in its digests, so that the
// owner can tell a copy from its current run (nothing to do) from a leftover of an earlier run
// with the same version (repair). docs/STORES.md section 2.
//
// Pure bookkeeping; loop thread only (owned by StoreSyncAdapter).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "mesh/device_id.h"

namespace meshslice {

class HeldIncarnations {
 public:
  // After applying `device`'s slice of `store` at `version`.
  void record(const std::string& store, const DeviceId& device, uint64_t version, uint64_t incarnation);
  // The incarnation recorded for exactly this version; 0 if none is (another version is held
  // now, or the slice came without one).
  uint64_t lookup(const std::string& store, const DeviceId& device, uint64_t version) const;
  void forgetDevice(const DeviceId& device);
  void forgetStore(const std::string& store);
  void clear() { held_.clear(); }
  size_t size() const;

 private:
  struct Held {
    uint64_t version = 0;
    uint64_t incarnation = 0;
  };
  std::map<std::string, std::map<DeviceId, Held>> held_;
};

}  // namespace meshslice
