// SliceTable: the slices one store holds (its own and other devices') and the version rules
// applied to them. Plain data, no locking and no I/O: SyncedStore wraps it with a mutex,
// persistence and events.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "store/device_slice.h"
#include "store/syncable_store.h"

namespace meshslice {

class SliceTable {
 public:
  explicit SliceTable(DeviceId local_device);

  const DeviceId& localDevice() const { return local_->device_id; }
  const DeviceSlice& local() const { return *local_; }
  // The local slice itself: immutable, replaced (not changed) by commitLocal().
  const std::shared_ptr<const DeviceSlice>& sharedLocal() const { return local_; }
  // The slice a local write of `data` at `wall_ms` produces (not yet committed).
  DeviceSlice nextLocal(Bytes data, int64_t wall_ms) const;
  // The current local data re-stamped with a version above max(`above`, floor).
  DeviceSlice restampedLocal(uint64_t above, int64_t wall_ms) const;
  // Makes `slice` the local slice (after it was persisted). Its device must be ours.
  void commitLocal(DeviceSlice slice);
  // Future local versions will be above `version`.
  void raiseFloor(uint64_t version);
  uint64_t floor() const { return floor_; }

  // Whether `slice` is newer than what is held for its device.
  bool isNewer(const DeviceSlice& slice) const;
  void putRemote(DeviceSlice slice);
  // True if a slice was held.
  bool removeRemote(const DeviceId& device);
  // Devices whose slices were dropped.
  std::vector<DeviceId> clearRemote();
  const DeviceSlice* remote(const DeviceId& device) const;
  const std::map<DeviceId, DeviceSlice>& remotes() const { return remote_; }
  std::vector<HeldVersion> remoteVersions() const;

 private:
  std::shared_ptr<const DeviceSlice> local_;
  uint64_t floor_ = 0;
  std::map<DeviceId, DeviceSlice> remote_;
};

}  // namespace meshslice
