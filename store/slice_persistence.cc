#include "store/slice_persistence.h"

namespace meshslice {

Result<std::optional<DeviceSlice>> MemoryPersistence::load() {
  std::lock_guard lock(mutex_);
  return saved_;
}

Status MemoryPersistence::save(const DeviceSlice& slice) {
  std::lock_guard lock(mutex_);
  saved_ = slice;
  ++saves_;
  return Status::ok();
}

size_t MemoryPersistence::saves() const {
  std::lock_guard lock(mutex_);
  return saves_;
}

}  // namespace meshslice
