// One device's state in one store: the unit that store sync replicates. Per (store, device)
// the highest version wins (DESIGN.md section 8).
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "mesh/device_id.h"

namespace meshslice {

struct DeviceSlice {
  DeviceId device_id;
  uint64_t version = 0;     // rises monotonically per (store, device), across restarts
  int64_t updated_at = 0;   // wall clock of the owning device, ms since the Unix epoch
  Bytes data;               // opaque to the sync layer, <= kMaxSliceData bytes

  friend bool operator==(const DeviceSlice&, const DeviceSlice&) = default;
};

}  // namespace meshslice
