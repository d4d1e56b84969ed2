// StoreSyncAdapter's side of slice deltas (store/slice_delta.h, docs/STORES.md section 5): making
// one for a peer, applying one from a peer, and the refusals. The rest of the adapter is in
// store/store_sync_adapter.cc.
#include "base/log.h"
#include "store/store_sync_adapter.h"
#include "store/version_clock.h"

namespace meshslice {

std::optional<Bytes> StoreSyncAdapter::makeDelta(const std::string& store_id, const EncodedSlice& slice,
                                                 uint64_t base_version, bool tree) {
  const DeviceSlice& s = *slice.slice;
  if (bases_.knownNoDelta(store_id, base_version, s.version)) return std::nullopt;
  DeltaBases::Data base = bases_.find(store_id, base_version);
  if (!base) return std::nullopt;
  auto ops = computeDeltaOps(*base, s.data, s.data.size() * options_.max_delta_percent / 100);
  if (!ops) {
    bases_.noDelta(store_id, base_version, s.version);
    return std::nullopt;
  }
  SliceDelta delta;
  delta.store_id = store_id;
  delta.device_id = s.device_id;
  delta.base_version = base_version;
  delta.base_incarnation = incarnationOf(store_id);
  delta.version = s.version;
  delta.updated_at = s.updated_at;
  delta.incarnation = delta.base_incarnation;
  delta.size = s.data.size();
  if (tree) {
    delta.digest_kind = DeltaDigest::kTree;
    delta.digest = bases_.treeOf(store_id, s.version, s.data, base_version, *ops).root;
  } else {
    delta.digest = bases_.digestOf(store_id, s.version, s.data);
  }
  delta.ops = std::move(*ops);
  return encodeDeltaMessage(delta);
}

void StoreSyncAdapter::noteHolds(PeerState& peer, const std::string& store_id, uint64_t version) {
  uint64_t& holds = peer.holds[store_id];
  holds = std::max(holds, version);
}

void StoreSyncAdapter::onDeltaMessage(const DeviceId& from, PeerState& peer, ByteView payload) {
  auto message = decodeDeltaMessage(payload);
  if (!message) {
    // Which store it concerns is unknown: nothing to refuse; anti-entropy repairs the slice.
    return dropMalformed(from, "delta message", message.status());
  }
  if (auto* delta = std::get_if<SliceDelta>(&message.value())) return handleDelta(from, peer, *delta);
  handleDeltaRefused(peer, std::get<DeltaRefused>(message.value()));
}

void StoreSyncAdapter::handleDelta(const DeviceId& from, PeerState& peer, const SliceDelta& delta) {
  if (delta.device_id != from) {
    ++stats_.slices_spoofed;
    MS_LOG(kWarn, "sync") << "dropped a delta of " << delta.device_id.shortString() << " sent by "
                          << from.shortString() << " in store " << delta.store_id;
    return;
  }
  if (!isPlausibleVersion(delta.version, env_.wallMillis())) {
    // As for a SliceUpdate: the full slice would be refused too, so no DeltaRefused.
    ++stats_.versions_implausible;
    logRefusal(from, "its delta of " + delta.store_id + " to v" + std::to_string(delta.version) +
                         ", too far ahead of our clock: not applied");
    return;
  }
  ISyncableStore* store = findStore(delta.store_id);
  if (!store) {
    ++stats_.slices_unknown_store;
    return;
  }
  if (refuses(peer, delta.store_id)) {
    ++stats_.slices_contract_refused;  // no DeltaRefused: the full slice would be refused too
    return;
  }
  std::optional<uint64_t> held;
  for (const HeldVersion& h : store->remoteVersions())
    if (h.device == from) held = h.version;
  if (held && *held >= delta.version) {
    ++stats_.deltas_stale;
    return;
  }
  // Exactly the named base: the version and the incarnation that stamped it (a version names
  // one state only within one incarnation).
  if (!held || *held != delta.base_version || delta.base_incarnation == 0 ||
      held_.lookup(delta.store_id, from, delta.base_version) != delta.base_incarnation) {
    return refuseDelta(from, delta, DeltaRefusal::kUnknownBase, Status(Code::kNotFound, "base not held"));
  }
  Result<Bytes> data = Status(Code::kNotFound, "base no longer held");
  DeltaRefusal why = DeltaRefusal::kUnknownBase;
  const bool tree = delta.digest_kind == DeltaDigest::kTree;
  const SliceTree* base_tree =
      tree ? remote_trees_.find(delta.store_id, from, delta.base_version, delta.base_incarnation) : nullptr;
  SliceTree result_tree;
  store->readRemoteData(from, delta.base_version, [&](ByteView base) {
    data = applySliceDelta(base, delta, &why, base_tree, tree ? &result_tree : nullptr);
  });
  if (!data) return refuseDelta(from, delta, why, data.status());
  DeviceSlice slice{from, delta.version, delta.updated_at, std::move(data).value()};
  const uint64_t applied_before = stats_.slices_applied;
  applyFromOwner(from, peer, delta.store_id, *store, std::move(slice), delta.incarnation);
  if (stats_.slices_applied == applied_before) return;
  ++stats_.deltas_applied;
  if (!tree) return;
  ++stats_.tree_deltas_applied;
  remote_trees_.put(delta.store_id, from, delta.version, delta.incarnation, std::move(result_tree));
}

void StoreSyncAdapter::refuseDelta(const DeviceId& from, const SliceDelta& delta, DeltaRefusal reason, const Status& why) {
  ++stats_.deltas_refused;
  switch (reason) {
    case DeltaRefusal::kUnknownBase: ++stats_.deltas_refused_unknown_base; break;
    case DeltaRefusal::kDigestMismatch: ++stats_.deltas_refused_digest; break;
    case DeltaRefusal::kMalformed: ++stats_.deltas_refused_malformed; break;
  }
  MS_LOG(kInfo, "sync") << "refused a delta of " << delta.store_id << " v" << delta.version << " on v"
                        << delta.base_version << " from " << from.shortString() << " ("
                        << deltaRefusalName(reason) << ": " << why.message() << "): asking for the full slice";
  sendEncoded(from, encodeDeltaMessage(DeltaRefused{delta.store_id, delta.version, reason}), delta.store_id).ignore();
}

void StoreSyncAdapter::handleDeltaRefused(PeerState& peer, const DeltaRefused& refused) {
  auto sent = peer.delta_sent.find(refused.store_id);
  if (sent == peer.delta_sent.end() || sent->second != refused.version || !findStore(refused.store_id)) return;
  ++stats_.delta_refusals_received;
  peer.delta_sent.erase(sent);
  peer.holds.erase(refused.store_id);  // what it holds is unknown now: the full slice
  markDirty(peer, refused.store_id, true);
  scheduleFlush();
}

}  // namespace meshslice
