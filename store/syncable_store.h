// ISyncableStore: what StoreSyncAdapter needs from a store. A store holds this device's own
// slice (which only this device writes) and the slices of the other devices of the mesh
// (which only the adapter changes, on the loop thread). SyncedStore<T> and RawStore
// (store/synced_store.h) are the ready implementations.
//
// Threading contract:
// - storeId() is immutable; any thread.
// - localSlice(), remoteVersions() and raiseLocalVersionAbove() may be called from any thread;
//   the adapter calls them on its loop thread.
// - sharedLocalSlice() like localSlice().
// - applyRemoteSlice(), takeRemoteSlice(), removeRemoteSlice() and clearRemoteSlices() are
//   called by the adapter on its loop thread only.
// - The local-change listener may be called from any thread (whichever thread wrote the local
//   slice). It must be quick and must not call back into the store: the adapter's only posts a
//   task to its loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "mesh/device_id.h"
#include "mesh/peer_events.h"
#include "store/device_slice.h"
#include "store/store_contract.h"

namespace meshslice {

enum class ApplyResult {
  kApplied,   // newer than what the store held: it replaced it
  kStale,     // equal or older version: ignored
  kRejected,  // the data is not valid for this store (e.g. does not decode as its type)
};

struct HeldVersion {
  DeviceId device;
  uint64_t version = 0;
  friend bool operator==(const HeldVersion&, const HeldVersion&) = default;
};

class ISyncableStore {
 public:
  virtual ~ISyncableStore() = default;

  // Valid store ID (validateStoreId()); fixed for the store's lifetime.
  virtual const std::string& storeId() const = 0;
  // What the slice data means (store/store_contract.h); fixed for the store's lifetime and
  // valid (validateStoreContract()). The default declares nothing: it takes any peer's data.
  virtual StoreContract contract() const { return {}; }
  // This device's current slice. version == 0 means nothing was written yet.
  virtual DeviceSlice localSlice() const = 0;
  // Stores another device's slice if its version is newer than the one held for that device.
  // slice.device_id is already authenticated by the caller and is never the local device.
  virtual ApplyResult applyRemoteSlice(const DeviceSlice& slice) = 0;
  // localSlice() shared instead of copied (a large slice is read on every flush): the slice it
  // points to never changes (a write makes a new one). The default copies localSlice().
  virtual std::shared_ptr<const DeviceSlice> sharedLocalSlice() const {
    return std::make_shared<const DeviceSlice>(localSlice());
  }
  // applyRemoteSlice() of a slice the caller gives up, so that a store can keep its data
  // without copying it. The default is the copying form.
  virtual ApplyResult takeRemoteSlice(DeviceSlice&& slice) { return applyRemoteSlice(slice); }
  // Drops a device's slice (it went offline) and tells the store's users why.
  virtual void removeRemoteSlice(const DeviceId& device, LeaveReason reason) = 0;
  // Drops every remote slice (the adapter stops or lets go of the store).
  virtual void clearRemoteSlices() = 0;
  // (device, version) of every remote slice held, for anti-entropy digests.
  virtual std::vector<HeldVersion> remoteVersions() const = 0;
  // Calls `reader` with the data of `device`'s slice if exactly `version` of it is held (under
  // the store's lock: `reader` must not call into the store) and returns true; false if another
  // version or none is held. A delta from that device (store/slice_delta.h) is applied on top
  // of this data. The default holds nothing: deltas are refused and the full slice follows.
  virtual bool readRemoteData(const DeviceId& device, uint64_t version,
                              const std::function<void(ByteView)>& reader) const {
    (void)device, (void)version, (void)reader;
    return false;
  }
  // Installs the callback fired after every change of the local slice (set, repair). nullptr
  // removes it; once this returns, the old callback is not running and will not run again.
  virtual void setLocalChangeListener(std::function<void()> listener) = 0;
  // Version repair: a peer holds our slice at `version` (a leftover of an earlier run that
  // used higher versions). If something was written, the local slice is re-stamped with a
  // version above it (same data) and the listener fires; if nothing was written yet, the next
  // write will be above it. No-op if the local version is already higher. An error means the
  // new version could not be persisted: the repair still holds in memory (the adapter reports
  // it as StorePhase::kPersist).
  virtual Status raiseLocalVersionAbove(uint64_t version) = 0;
};

}  // namespace meshslice
