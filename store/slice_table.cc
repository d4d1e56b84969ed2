#include "store/slice_table.h"

#include <algorithm>
#include <cassert>

#include "store/version_clock.h"

namespace meshslice {

SliceTable::SliceTable(DeviceId local_device) {
  auto empty = std::make_shared<DeviceSlice>();
  empty->device_id = local_device;
  local_ = std::move(empty);
}

DeviceSlice SliceTable::nextLocal(Bytes data, int64_t wall_ms) const {
  DeviceSlice next;
  next.device_id = local_->device_id;
  next.version = nextLocalVersion(local_->version, wall_ms, floor_);
  next.updated_at = wall_ms;
  next.data = std::move(data);
  return next;
}

DeviceSlice SliceTable::restampedLocal(uint64_t above, int64_t wall_ms) const {
  DeviceSlice next = *local_;
  next.version = nextLocalVersion(local_->version, wall_ms, std::max(above, floor_));
  return next;
}

void SliceTable::commitLocal(DeviceSlice slice) {
  assert(slice.device_id == local_->device_id);
  local_ = std::make_shared<const DeviceSlice>(std::move(slice));
}

void SliceTable::raiseFloor(uint64_t version) { floor_ = std::max(floor_, version); }

bool SliceTable::isNewer(const DeviceSlice& slice) const {
  auto it = remote_.find(slice.device_id);
  return isNewerVersion(it == remote_.end() ? std::nullopt : std::optional(it->second.version),
                        slice.version);
}

void SliceTable::putRemote(DeviceSlice slice) {
  assert(slice.device_id != local_->device_id);
  DeviceId id = slice.device_id;
  remote_.insert_or_assign(id, std::move(slice));
}

bool SliceTable::removeRemote(const DeviceId& device) { return remote_.erase(device) > 0; }

std::vector<DeviceId> SliceTable::clearRemote() {
  std::vector<DeviceId> ids;
  for (const auto& [id, slice] : remote_) ids.push_back(id);
  remote_.clear();
  return ids;
}

const DeviceSlice* SliceTable::remote(const DeviceId& device) const {
  auto it = remote_.find(device);
  return it == remote_.end() ? nullptr : &it->second;
}

std::vector<HeldVersion> SliceTable::remoteVersions() const {
  std::vector<HeldVersion> out;
  out.reserve(remote_.size());
  for (const auto& [id, slice] : remote_) out.push_back({id, slice.version});
  return out;
}

}  // namespace meshslice
