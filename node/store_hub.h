// StoreHub: the daemon's stores. Each store is a RawStore holding JSON text (validated on
// set, at most kMaxSliceData bytes), its local slice persisted with FilePersistence in
// <state-dir>/stores/<store-id>.slice, and synced by one StoreSyncAdapter.
//
// Stores come into being (a) when listed in the config, (b) on the first local `set`, (c) when
// a peer's sync traffic names a store this node does not have yet (a SliceUpdate or a Digest
// entry): the hub opens it, so `get` and `watch` show every store of the mesh without setup.
// At most kMaxStores stores; traffic for more is ignored (logged once per store). A store
// whose last slice went because its owner removed it (SliceRemoved) is closed again.
//
// Remote slices are opaque bytes to the sync layer: another program may write non-JSON data
// into a store of the same name. get() and slice events show such data, and JSON nested
// deeper than kMaxValueDepth, as "data"/"data_base64" instead of "value".
//
// Threading and lifetime: loop thread only; `env` and `core` must outlive the hub. stop()
// (or the destructor) stops syncing and clears remote slices before the stores go.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "mesh/mesh_core.h"
#include "node/json_util.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"

namespace meshslice {

inline constexpr size_t kMaxStores = 256;
inline constexpr std::string_view kSliceFileSuffix = ".slice";

class StoreHub {
 public:
  using EventFn = std::function<void(const Json& event)>;

  // `stores_dir` is created (0700) on the first store. `on_event` receives slice events (see
  // docs/CONTROL.md, `watch`): slice_updated for local and remote changes, slice_removed.
  StoreHub(Env& env, MeshCore& core, std::string stores_dir, EventFn on_event,
           AdapterOptions options = {});
  ~StoreHub();
  StoreHub(const StoreHub&) = delete;
  StoreHub& operator=(const StoreHub&) = delete;

  // The contract `store_id` declares when it is opened (before: a store already open keeps
  // its own). Without one a store declares nothing and takes any peer's data.
  void declareContract(const std::string& store_id, StoreContract contract) { contracts_[store_id] = std::move(contract); }
  // Opens (loading a persisted slice) and starts syncing a store; OK if it is open already.
  // kInvalidArgument for a bad ID, kBusy past kMaxStores, the persistence error for a corrupt
  // slice file (which is left untouched).
  Status open(const std::string& store_id);
  // Replaces the local slice of `store_id` (opening it first) with `json_text`, which must be
  // one valid JSON value. Returns the new version. kInvalidArgument for bad JSON, kTooLarge.
  // Blocks the loop for the slice file's write and fsync (milliseconds on a local disk).
  Result<uint64_t> set(const std::string& store_id, const std::string& json_text);
  // {"store", "slices": [slice...]} or, with `device`, {"store", "slice": slice}; kNotFound for
  // an unknown store or a device without a slice there.
  Result<Json> get(const std::string& store_id, const std::optional<DeviceId>& device) const;
  // Deletes this device's slice of a store (docs/STORES.md section 7): the slice file goes,
  // peers that take it ("lifecycle") drop our slice, and watchers see slice_removed (reason
  // "removed"). While other devices hold slices there the store stays open (without ours).
  // kNotFound for a store that is not open or holds no slice of ours.
  Result<Json> remove(const std::string& store_id);
  // [{"store", "local_version", "devices", "contract", "mismatched": [{"device", "contract"}...]}...]
  Json list() const;
  size_t storeCount() const { return stores_.size(); }
  const SyncStats& syncStats() const { return adapter_->stats(); }
  // (peer, store) pairs whose contracts disagree now.
  size_t contractMismatches() const { return adapter_->contractMismatches().size(); }
  void stop();

 private:
  struct Entry {
    std::unique_ptr<RawStore> store;
    ListenerHandle listener;
  };
  void onSyncTraffic(ByteView payload);
  void onStoreEvent(const std::string& store_id, const RawStore::Event& event);
  // After a peer removed its slice: a store nobody holds a slice of any more is closed.
  void closeIfEmpty(const std::string& store_id);
  Json sliceJson(const DeviceSlice& slice, bool local) const;

  Env& env_;
  MeshCore& core_;
  std::string dir_;
  EventFn on_event_;
  Subscription discovery_;  // before the adapter's, so a new store exists when it looks
  std::unique_ptr<StoreSyncAdapter> adapter_;
  std::map<std::string, Entry> stores_;
  std::map<std::string, StoreContract> contracts_;  // declared by the config
  std::set<std::string> refused_;  // store IDs over the limit, logged once
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted tasks
};

}  // namespace meshslice
