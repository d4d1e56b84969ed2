// StoreSyncAdapter's side of store lifecycle (store/slice_removal.h, docs/STORES.md section 7):
// retracting our slice of a store, and dropping a peer's slice when its owner removed it. The
// rest of the adapter is in store/store_sync_adapter.cc.
#include <algorithm>

#include "base/log.h"
#include "store/store_sync_adapter.h"

namespace meshslice {

Status StoreSyncAdapter::retractStore(const std::string& store_id) {
  ISyncableStore* store = findStore(store_id);
  if (!store) return Status(Code::kNotFound, "store " + store_id + " is not synced");
  // Even a never-written slice (version 0) is retracted: a leftover of an earlier run that a
  // peer still holds is below any version, and the digest repair below names its version.
  const uint64_t version = store->localSlice().version;
  MS_RETURN_IF_ERROR(removeStore(store_id));
  if (retracted_.size() >= kMaxStoresRetracted && !retracted_.count(store_id)) {
    auto lowest = std::min_element(retracted_.begin(), retracted_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    retracted_.erase(lowest);
  }
  retracted_[store_id] = version;
  for (const auto& [peer_id, peer] : peers_) sendRemoved(peer_id, peer, store_id, version);
  return Status::ok();
}

void StoreSyncAdapter::sendRemoved(const DeviceId& peer_id, const PeerState& peer, const std::string& store_id,
                                   uint64_t version) {
  if (!peer.lifecycle) return;  // it keeps our slice until we go offline (documented)
  Status st = sendEncoded(peer_id, encodeSliceRemoved(SliceRemoved{store_id, core_.local().id, version}), store_id);
  if (st.isOk()) ++stats_.removals_sent;
}

void StoreSyncAdapter::onDigestOfRetracted(const DeviceId& from, const PeerState& peer, const DigestEntry& entry) {
  auto it = retracted_.find(entry.store_id);
  if (it == retracted_.end()) return;
  // It missed the removal (the link was down, or it re-linked): tell it again, at the version
  // it reports if that is higher (a leftover of an earlier run).
  sendRemoved(from, peer, entry.store_id, std::max(it->second, entry.version));
}

void StoreSyncAdapter::onLifecycleMessage(const DeviceId& from, ByteView payload) {
  if (!peers_.count(from)) {
    ++stats_.from_unlinked;
    return;
  }
  auto removed = decodeSliceRemoved(payload);
  if (!removed) {
    return dropMalformed(from, "lifecycle message", removed.status());
  }
  if (removed->device_id != from) {
    ++stats_.slices_spoofed;
    MS_LOG(kWarn, "sync") << "dropped a removal of " << removed->device_id.shortString() << "'s slice sent by "
                          << from.shortString() << " in store " << removed->store_id;
    return;
  }
  ISyncableStore* store = findStore(removed->store_id);
  if (!store) return;
  for (const HeldVersion& held : store->remoteVersions()) {
    if (held.device != from) continue;
    if (held.version > removed->version) return;  // a later write of the owner's: it stays
    store->removeRemoteSlice(from, LeaveReason::kRemoved);
    ++stats_.removals_applied;
    return;
  }
}

}  // namespace meshslice
