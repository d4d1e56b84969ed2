// Where a store keeps its local slice between runs. With persistence a restarted device
// continues from its saved version and data; without it, from the wall clock (version_clock.h).
//
// Threading: an implementation need not be thread-safe; its owning store serialises calls.
// Calls block (file I/O); stores make them inside set(), on the caller's thread.
#pragma once

#include <mutex>
#include <optional>

#include "base/status.h"
#include "store/device_slice.h"

namespace meshslice {

class SlicePersistence {
 public:
  virtual ~SlicePersistence() = default;
  // The saved slice, nullopt if none was ever saved. An error means saved state exists but
  // cannot be trusted (corrupt, another store's): the store refuses to start on it.
  virtual Result<std::optional<DeviceSlice>> load() = 0;
  // Replaces the saved slice. On error the previous saved slice is still the saved one.
  virtual Status save(const DeviceSlice& slice) = 0;
};

// Keeps the slice in memory: survives a store (hand the same object to the next one, as tests
// do to simulate a restart), not a process. Thread-safe.
class MemoryPersistence final : public SlicePersistence {
 public:
  Result<std::optional<DeviceSlice>> load() override;
  Status save(const DeviceSlice& slice) override;
  size_t saves() const;

 private:
  mutable std::mutex mutex_;
  std::optional<DeviceSlice> saved_;
  size_t saves_ = 0;
};

}  // namespace meshslice
