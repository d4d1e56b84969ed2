#include "store/store_sync_adapter.h"

#include <algorithm>
#include <cassert>

#include "base/log.h"
#include "store/version_clock.h"

namespace meshslice {

StoreSyncAdapter::StoreSyncAdapter(Env& env, MeshCore& core, AdapterOptions options)
    : env_(env), core_(core), options_(options) {
  auto sub = core_.bus().subscribeReserved(kSyncNamespace, [this](const BusMessageEvent& m) {
    onSyncMessage(m.from, m.payload);
  });
  assert(sub.isOk());
  subscription_ = std::move(sub).value();
  core_.addObserver(this);
  anti_entropy_timer_ = env_.newTimer([this] { onAntiEntropy(); });
  owed_timer_ = env_.newTimer([this] { onOwedRecheck(); });
  armAntiEntropy();
  // Links that came up before us: their join digests went by unseen, so none of their digests
  // is treated as one.
  for (const DeviceId& peer : core_.connectedPeers()) joinExchange(peer, false);
}

StoreSyncAdapter::~StoreSyncAdapter() {
  stop();
  *alive_ = false;
}

void StoreSyncAdapter::stop() {
  if (stopped_) return;
  stopped_ = true;
  subscription_.reset();
  core_.removeObserver(this);
  anti_entropy_timer_.reset();
  owed_timer_.reset();
  peers_.clear();
  held_.clear();
  bases_.clear();
  remote_trees_.clear();
  forEachStoreFiringListeners([](ISyncableStore& store) {
    store.setLocalChangeListener(nullptr);
    store.clearRemoteSlices();
  });
}

void StoreSyncAdapter::forEachStoreFiringListeners(const std::function<void(ISyncableStore&)>& f) {
  std::vector<std::string> ids;
  ids.reserve(stores_.size());
  for (const auto& [id, store] : stores_) ids.push_back(id);
  for (const auto& id : ids)
    if (ISyncableStore* store = findStore(id)) f(*store);
}

Status StoreSyncAdapter::addStore(ISyncableStore& store) {
  if (stopped_) return Status(Code::kClosed, "store sync adapter stopped");
  const std::string& id = store.storeId();
  MS_RETURN_IF_ERROR(validateStoreId(id));
  if (stores_.count(id)) return Status(Code::kAlreadyExists, "store " + id + " is already synced");
  stores_.emplace(id, &store);
  uint64_t incarnation = 0;
  while (incarnation == 0) incarnation = env_.randomU64();
  incarnations_[id] = incarnation;
  // Runs on the writer's thread: only touches the shared queue and posts to the loop.
  store.setLocalChangeListener([changes = changes_, alive = alive_, env = &env_, self = this, id] {
    std::lock_guard lock(changes->mutex);
    changes->stores.insert(id);
    if (changes->posted) return;
    changes->posted = true;
    env->post([alive, self] {
      if (*alive) self->onLocalChanges();
    });
  });
  for (auto& [peer_id, peer] : peers_) joinStore(peer_id, peer, id);
  scheduleFlush();
  return Status::ok();
}

Status StoreSyncAdapter::removeStore(const std::string& store_id) {
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return Status(Code::kNotFound, "store " + store_id + " is not synced");
  ISyncableStore* store = it->second;
  stores_.erase(it);
  incarnations_.erase(store_id);
  held_.forgetStore(store_id);
  bases_.forgetStore(store_id);
  remote_trees_.dropStore(store_id);
  store->setLocalChangeListener(nullptr);
  store->clearRemoteSlices();
  for (auto& [peer_id, peer] : peers_) {
    peer.mismatched.erase(store_id);
    peer.dirty.erase(store_id);
    peer.sent.erase(store_id);
    peer.holds.erase(store_id);
    peer.delta_sent.erase(store_id);
  }
  return Status::ok();
}

bool StoreSyncAdapter::isOwed(const DeviceId& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.owed;
}

uint64_t StoreSyncAdapter::incarnationOf(const std::string& store_id) const {
  auto it = incarnations_.find(store_id);
  return it == incarnations_.end() ? 0 : it->second;
}

uint32_t StoreSyncAdapter::versionFor(const PeerState& peer) const {
  return std::min(peer.protocol_version, options_.max_protocol_version);
}

ISyncableStore* StoreSyncAdapter::findStore(const std::string& id) const {
  auto it = stores_.find(id);
  return it == stores_.end() ? nullptr : it->second;
}

void StoreSyncAdapter::logRefusal(const DeviceId& from, const std::string& what) {
  const Micros now = env_.now();
  if (last_refusal_log_ && now - *last_refusal_log_ < kRefusalLogInterval) return;
  last_refusal_log_ = now;
  MS_LOG(kWarn, "sync") << from.shortString() << " sent " << what << " (refused so far: "
                        << stats_.repairs_refused << " claims, " << stats_.versions_implausible
                        << " versions; logged at most every " << kRefusalLogInterval / kSeconds << " s)";
}

// ---- peer events ----

void StoreSyncAdapter::onPeerLinked(const DeviceId& peer) {
  if (!stopped_) joinExchange(peer, true);
}

void StoreSyncAdapter::joinExchange(const DeviceId& peer_id, bool join_phase) {
  PeerState& peer = peers_[peer_id];
  peer = PeerState{};  // a new link: nothing sent on it yet
  peer.join_phase = join_phase;
  const auto lists = [](const std::vector<std::string>& caps, std::string_view cap) {
    return std::find(caps.begin(), caps.end(), cap) != caps.end();
  };
  // Both ends must announce "contract" (a test may make a node announce less, as an old build).
  const bool we_do_contracts = lists(core_.options().capabilities, kCapabilityContract);
  for (const PeerInfo& p : core_.peers())
    if (p.id == peer_id) {
      peer.protocol_version = p.protocol_version;
      peer.delta = lists(p.capabilities, kCapabilityDelta);
      peer.lifecycle = lists(p.capabilities, kCapabilityLifecycle);
      peer.delta_tree = lists(p.capabilities, kCapabilityDeltaTree);
      peer.contracts = we_do_contracts && lists(p.capabilities, kCapabilityContract);
    }
  peer.delta = peer.delta && options_.deltas && versionFor(peer) >= kDeltaProtocolVersion;
  peer.delta_tree = peer.delta_tree && peer.delta && options_.tree_digests;
  // Our contracts first: the peer judges every later message of a store by them.
  sendContracts(peer_id, peer, nullptr);
  // Order matters to the peer: the digest (our holdings before its slices reach us), then the
  // request that ends its join phase. Our slices wait for its join request, which follows its
  // join digest: that says which of them it holds already.
  sendDigests(peer_id, splitDigest(digestEntries()));
  sendRequest(peer_id, {});
  if (join_phase) return;
  // The link predates us: the peer's adapter made its join exchange with nobody (or with an
  // earlier adapter) and sends no join request. Push everything.
  for (const auto& [id, store] : stores_) markDirty(peer, id, false);
  scheduleFlush();
}

void StoreSyncAdapter::joinStore(const DeviceId& peer_id, PeerState& peer, const std::string& store_id) {
  // As joinExchange, for one store: what we hold of it, a request for the peer's slice (its
  // answer carries what it holds of ours there, which the incarnations judge), our slice.
  const std::vector<std::string> one = {store_id};
  sendContracts(peer_id, peer, &one);
  checkContract(peer_id, peer, store_id, true);
  if (refuses(peer, store_id)) return;
  sendDigests(peer_id, splitDigest(digestEntries(&one)));
  sendRequest(peer_id, {store_id});
  markDirty(peer, store_id, false);
}

void StoreSyncAdapter::onPeerLeft(const PeerLeft& event) {
  if (stopped_) return;
  peers_.erase(event.id);
  held_.forgetDevice(event.id);
  forEachStoreFiringListeners([&](ISyncableStore& store) { store.removeRemoteSlice(event.id, event.reason); });
}

void StoreSyncAdapter::onPeerDrained(const DeviceId& peer_id) {
  if (stopped_) return;
  auto it = peers_.find(peer_id);
  if (it != peers_.end() && it->second.owed) flushPeer(it->first, it->second);
}

// ---- receiving ----

void StoreSyncAdapter::onSyncMessage(const DeviceId& from, ByteView payload) {
  if (stopped_) return;
  if (isContractMessage(payload)) {
    auto it = peers_.find(from);
    if (it == peers_.end()) {
      ++stats_.from_unlinked;
      return;
    }
    return handleContracts(from, it->second, payload);
  }
  if (isLifecycleMessage(payload)) return onLifecycleMessage(from, payload);
  if (isDeltaMessage(payload)) {
    auto it = peers_.find(from);
    if (it == peers_.end()) {
      ++stats_.from_unlinked;
      return;
    }
    return onDeltaMessage(from, it->second, payload);
  }
  auto message = decodeSyncMessage(payload);
  if (!message) {
    return dropMalformed(from, "sync message", message.status());
  }
  auto it = peers_.find(from);
  if (it == peers_.end()) {
    // In flight when the peer left: applying it would leave a slice nobody evicts.
    ++stats_.from_unlinked;
    return;
  }
  if (auto* update = std::get_if<SliceUpdate>(&message.value())) {
    handleUpdate(from, it->second, *update);
  } else if (auto* request = std::get_if<SliceRequest>(&message.value())) {
    handleRequest(from, it->second, *request);
  } else {
    handleDigest(from, it->second, std::get<Digest>(message.value()));
  }
}

void StoreSyncAdapter::handleUpdate(const DeviceId& from, const PeerState& peer, SliceUpdate& update) {
  if (update.slice.device_id != from) {
    ++stats_.slices_spoofed;
    MS_LOG(kWarn, "sync") << "dropped a slice of " << update.slice.device_id.shortString()
                          << " sent by " << from.shortString() << " in store " << update.store_id;
    return;
  }
  if (!isPlausibleVersion(update.slice.version, env_.wallMillis())) {
    ++stats_.versions_implausible;
    logRefusal(from, "its slice of " + update.store_id + " at v" + std::to_string(update.slice.version) +
                         ", too far ahead of our clock: not applied");
    return;
  }
  ISyncableStore* store = findStore(update.store_id);
  if (!store) {
    ++stats_.slices_unknown_store;
    return;
  }
  if (refuses(peer, update.store_id)) {
    ++stats_.slices_contract_refused;  // in flight before the peer learnt of the mismatch
    return;
  }
  applyFromOwner(from, peer, update.store_id, *store, std::move(update.slice), update.incarnation);
}

void StoreSyncAdapter::applyFromOwner(const DeviceId& from, const PeerState& peer, const std::string& store_id,
                                      ISyncableStore& store, DeviceSlice&& slice, uint64_t incarnation) {
  const uint64_t version = slice.version;
  switch (store.takeRemoteSlice(std::move(slice))) {
    case ApplyResult::kApplied:
      ++stats_.slices_applied;
      remote_trees_.drop(store_id, from);  // a tree-checked delta puts the new one back
      held_.record(store_id, from, version, versionFor(peer) >= kIncarnationProtocolVersion ? incarnation : 0);
      break;
    case ApplyResult::kStale: ++stats_.slices_stale; break;
    case ApplyResult::kRejected:
      ++stats_.slices_rejected;  // the store logged why
      reportError(StorePhase::kApply, store_id, from,
                  Status(Code::kMalformed, "store " + store_id + " refused slice v" + std::to_string(version) +
                                               " of " + from.shortString() + " (not valid data for the store)"));
      break;
  }
}

void StoreSyncAdapter::handleRequest(const DeviceId& from, PeerState& peer, const SliceRequest& request) {
  ++stats_.requests_received;
  if (request.store_ids.empty()) {
    // The peer's join request. If this link's join exchange is ours too, its join digest came
    // first: send what it does not hold from this run. Otherwise (the peer's adapter is newer
    // than the link) send everything. Either way the answer is every other local slice, even
    // one this link carried already (the answer to a named request, a local change): only the
    // join digest decides what is skipped (docs/STORES.md section 3).
    const bool ours = peer.join_phase;
    peer.join_phase = false;
    for (const auto& [id, store] : stores_) {
      if (refuses(peer, id)) continue;
      auto held = peer.join_current.find(id);
      if (ours && held != peer.join_current.end() && held->second == store->localSlice().version) {
        ++stats_.join_skips;
        peer.sent[id] = held->second;
        noteHolds(peer, id, held->second);
        continue;
      }
      markDirty(peer, id, true);
    }
    peer.join_current.clear();
  } else {
    std::vector<std::string> ours;
    for (const std::string& id : request.store_ids)
      if (stores_.count(id) && !refuses(peer, id)) {
        markDirty(peer, id, true);
        ours.push_back(id);
      }
    // What we hold of the requester's slices there: a store it just added learns whether a
    // copy of its slice from an earlier run is left here (then it repairs).
    if (auto held = digestEntries(&ours, &from); !held.empty()) sendDigests(from, splitDigest(std::move(held)));
  }
  scheduleFlush();
}

void StoreSyncAdapter::handleDigest(const DeviceId& from, PeerState& peer, const Digest& digest) {
  ++stats_.digests_received;
  const DeviceId& self = core_.local().id;
  const int64_t wall = env_.wallMillis();
  std::map<std::string, std::optional<uint64_t>> held_from_sender;  // per store, lazily
  std::vector<std::string> wanted;
  // Per store, the highest claim about our slice that needs a repair. Repairs run once per
  // store after the loop: a digest of 4096 rising claims would otherwise cost 4096 re-stamps
  // (each a persistence save) instead of one.
  std::map<std::string, uint64_t> repair_above;
  for (const DigestEntry& e : digest.entries) {
    ISyncableStore* store = findStore(e.store_id);
    if (!store) {
      if (e.device_id == self) onDigestOfRetracted(from, peer, e);
      continue;
    }
    if (refuses(peer, e.store_id)) continue;
    if (e.device_id == self) {
      const uint64_t local = store->localSlice().version;
      if (local == 0) onDigestOfRetracted(from, peer, e);  // registered again, nothing written yet
      const uint64_t reported = versionFor(peer) >= kIncarnationProtocolVersion ? e.incarnation : 0;
      const Provenance provenance = provenanceOf(reported, incarnationOf(e.store_id));
      if (provenance == Provenance::kThisRun && e.version <= local) noteHolds(peer, e.store_id, e.version);
      const bool repair = needsRepair(local, e.version, provenance, peer.join_phase);
      if (repair && !isPlausibleRepairClaim(e.version, wall)) {
        // Following it would put our version kMaxRepairLead or more ahead of our clock: no
        // earlier run of ours got there, so it is a lie. No repair, no floor change.
        ++stats_.repairs_refused;
        logRefusal(from, "a claim to hold our slice of " + e.store_id + " at v" + std::to_string(e.version) +
                             ", too far ahead of our clock: refused");
      } else if (repair) {
        uint64_t& above = repair_above[e.store_id];
        above = std::max(above, e.version);
      } else if (e.version < local) {
        markDirty(peer, e.store_id, true);
      } else if (peer.join_phase && local > 0) {
        peer.join_current[e.store_id] = local;  // it holds what this run stamped
      }
    } else if (e.device_id == from && !isPlausibleVersion(e.version, wall)) {
      ++stats_.versions_implausible;  // not requested: it would be refused on arrival
      logRefusal(from, "a digest entry for its slice of " + e.store_id + " at v" + std::to_string(e.version) +
                           ", too far ahead of our clock: not requested");
    } else if (e.device_id == from && !peer.join_phase) {
      // (In the join phase the sender's slices follow its digest anyway.)
      auto [it, inserted] = held_from_sender.try_emplace(e.store_id);
      if (inserted) {
        for (const HeldVersion& h : store->remoteVersions())
          if (h.device == from) it->second = h.version;
      }
      if (isNewerVersion(it->second, e.version)) wanted.push_back(e.store_id);
    }
    // Third parties' slices come from their owners only.
  }
  for (const auto& [store_id, claimed] : repair_above) {
    ISyncableStore* store = findStore(store_id);
    const uint64_t local = store->localSlice().version;
    MS_LOG(kInfo, "sync") << from.shortString() << " holds our slice of " << store_id << " at v" << claimed
                          << " >= ours (v" << local << "): raising our version";
    // Its change signal re-sends to everyone. A save error leaves the repair in memory only.
    Status saved = store->raiseLocalVersionAbove(claimed);
    if (local > 0) ++stats_.repairs;
    if (!saved.isOk()) {
      ++stats_.persist_errors;
      reportError(StorePhase::kPersist, store_id, self, std::move(saved));
    }
  }
  if (!wanted.empty()) sendRequest(from, std::move(wanted));
  scheduleFlush();
}

// ---- sending ----

void StoreSyncAdapter::onLocalChanges() {
  std::set<std::string> changed;
  {
    std::lock_guard lock(changes_->mutex);
    changed.swap(changes_->stores);
    changes_->posted = false;
  }
  if (stopped_) return;
  for (const std::string& id : changed) {
    if (!stores_.count(id)) continue;
    for (auto& [peer_id, peer] : peers_) markDirty(peer, id, false);
  }
  flushAll();
}

void StoreSyncAdapter::markDirty(PeerState& peer, const std::string& store_id, bool force) {
  bool& f = peer.dirty[store_id];
  f = f || force;
}

void StoreSyncAdapter::scheduleFlush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  env_.post([this, alive = alive_] {
    if (!*alive) return;
    flush_posted_ = false;
    flushAll();
  });
}

void StoreSyncAdapter::flushAll() {
  if (stopped_) return;
  FlushCache cache;  // a slice going to many peers is read and encoded once
  for (auto& [id, peer] : peers_)
    if (!peer.dirty.empty()) flushPeer(id, peer, cache);
}

StoreSyncAdapter::EncodedSlice& StoreSyncAdapter::encodedLocal(const std::string& store_id,
                                                                     FlushCache& cache) const {
  auto [it, inserted] = cache.try_emplace(store_id);
  if (inserted) {
    ISyncableStore* store = findStore(store_id);
    auto slice = store ? store->sharedLocalSlice() : std::make_shared<const DeviceSlice>();
    it->second.version = slice->version;
    it->second.slice = std::move(slice);
  }
  return it->second;
}

ByteView StoreSyncAdapter::messageFor(const std::string& store_id, const PeerState& peer, EncodedSlice& slice,
                                      bool& is_delta) {
  is_delta = false;
  if (peer.delta && slice.slice->data.size() >= kMinDeltaSliceSize) {
    auto held = peer.holds.find(store_id);
    if (held != peer.holds.end() && held->second < slice.version) {
      auto [it, fresh] = slice.deltas.try_emplace(std::make_pair(held->second, peer.delta_tree));
      if (fresh) it->second = makeDelta(store_id, slice, held->second, peer.delta_tree);
      if (it->second) {
        is_delta = true;
        return *it->second;
      }
    }
  }
  const uint64_t incarnation = incarnationOf(store_id);
  if (versionFor(peer) >= kIncarnationProtocolVersion) {
    if (slice.message.empty()) slice.message = encodeSliceUpdate(store_id, *slice.slice, incarnation);
    return slice.message;
  }
  if (slice.message_v1.empty()) slice.message_v1 = encodeSliceUpdate(store_id, *slice.slice, incarnation, 1);
  return slice.message_v1;
}

void StoreSyncAdapter::flushPeer(const DeviceId& id, PeerState& peer) {
  FlushCache cache;
  flushPeer(id, peer, cache);
}

// Sends each dirty store's current local slice, unless the peer's queue is too full: then the
// rest stays dirty and is read again (newest state) when the peer is flushed next.
void StoreSyncAdapter::flushPeer(const DeviceId& id, PeerState& peer, FlushCache& cache) {
  for (auto it = peer.dirty.begin(); it != peer.dirty.end();) {
    if (core_.pendingBytesTo(id) > options_.max_pending_bytes_per_peer) return markOwed(peer);
    if (refuses(peer, it->first)) {
      it = peer.dirty.erase(it);
      continue;
    }
    EncodedSlice& slice = encodedLocal(it->first, cache);
    auto sent = peer.sent.find(it->first);
    const bool already = !it->second && sent != peer.sent.end() && sent->second >= slice.version;
    if (slice.version == 0 || already) {
      it = peer.dirty.erase(it);
      continue;
    }
    bool is_delta = false;
    const ByteView message = messageFor(it->first, peer, slice, is_delta);
    Status st = sendEncoded(id, message, it->first);
    if (st.code() == Code::kBusy) return markOwed(peer);
    if (st.isOk()) {
      ++stats_.slices_sent;
      stats_.slice_bytes_sent += message.size();
      peer.sent[it->first] = slice.version;
      if (peer.delta) {
        peer.holds[it->first] = slice.version;
        if (is_delta) {
          ++stats_.deltas_sent;
          if (peer.delta_tree) ++stats_.tree_deltas_sent;
          peer.delta_sent[it->first] = slice.version;
        }
        std::vector<uint64_t> held;  // bases peers will need
        for (const auto& [other_id, other] : peers_)
          if (auto h = other.holds.find(it->first); h != other.holds.end()) held.push_back(h->second);
        bases_.retain(it->first, slice.version, DeltaBases::Data(slice.slice, &slice.slice->data), held);
      }
    }
    it = peer.dirty.erase(it);
  }
  peer.owed = false;
}

void StoreSyncAdapter::markOwed(PeerState& peer) {
  if (!peer.owed) ++stats_.deferrals;
  peer.owed = true;
  if (owed_timer_ && !owed_timer_->armed()) owed_timer_->start(options_.owed_recheck_interval);
}

void StoreSyncAdapter::onOwedRecheck() {
  bool still_owed = false;
  FlushCache cache;  // a slice going to several owed peers is read and encoded once
  for (auto& [id, peer] : peers_) {
    if (!peer.owed) continue;
    flushPeer(id, peer, cache);
    still_owed = still_owed || peer.owed;
  }
  if (still_owed) owed_timer_->start(options_.owed_recheck_interval);
}

void StoreSyncAdapter::armAntiEntropy() {
  const Micros base = options_.anti_entropy_interval;
  anti_entropy_timer_->start(env_.randomBetween(base - base / 4, base + base / 4));
}

void StoreSyncAdapter::onAntiEntropy() {
  const std::vector<Digest> digests = splitDigest(digestEntries());
  for (auto& [id, peer] : peers_) {
    if (peer.owed) flushPeer(id, peer);
    if (peer.owed) continue;  // its queue is full; a digest would only add to it
    sendDigests(id, digests);
  }
  armAntiEntropy();
}

std::vector<DigestEntry> StoreSyncAdapter::digestEntries(const std::vector<std::string>* store_ids,
                                                         const DeviceId* owner) const {
  std::vector<DigestEntry> entries;
  const DeviceId& self = core_.local().id;
  auto add = [&](const std::string& id, ISyncableStore& store) {
    const uint64_t local = store.localSlice().version;
    if (!owner && local > 0) entries.push_back({id, self, local, incarnationOf(id)});
    for (const HeldVersion& h : store.remoteVersions())
      if (!owner || h.device == *owner) entries.push_back({id, h.device, h.version, held_.lookup(id, h.device, h.version)});
  };
  if (!store_ids) {
    for (const auto& [id, store] : stores_) add(id, *store);
  } else {
    for (const std::string& id : *store_ids)
      if (ISyncableStore* store = findStore(id)) add(id, *store);
  }
  return entries;
}

void StoreSyncAdapter::sendDigests(const DeviceId& peer, const std::vector<Digest>& digests) {
  for (const Digest& d : digests)
    if (send(peer, d).isOk()) ++stats_.digests_sent;
}

void StoreSyncAdapter::sendRequest(const DeviceId& peer, std::vector<std::string> store_ids) {
  if (store_ids.empty()) {
    if (send(peer, SliceRequest{}).isOk()) ++stats_.requests_sent;
    return;
  }
  for (size_t i = 0; i < store_ids.size(); i += kMaxSyncEntries) {
    SliceRequest r;
    const size_t end = std::min(store_ids.size(), i + kMaxSyncEntries);
    r.store_ids.assign(store_ids.begin() + static_cast<ptrdiff_t>(i),
                       store_ids.begin() + static_cast<ptrdiff_t>(end));
    if (send(peer, r).isOk()) ++stats_.requests_sent;
  }
}

Status StoreSyncAdapter::send(const DeviceId& peer, const SyncMessage& message) {
  auto it = peers_.find(peer);
  const uint32_t version = it == peers_.end() ? kMinProtocolVersion : versionFor(it->second);
  return sendEncoded(peer, encodeSyncMessage(message, version));
}

Status StoreSyncAdapter::sendEncoded(const DeviceId& peer, ByteView message, const std::string& store_id) {
  if (stopped_) return Status(Code::kClosed, "store sync adapter stopped");
  Status st = core_.bus().sendReserved(peer, kSyncNamespace, message);
  if (!st.isOk()) {
    ++stats_.send_errors;
    MS_LOG(kDebug, "sync") << "send to " << peer.shortString() << ": " << st.toString();
    reportError(StorePhase::kSend, store_id, peer, st);
  }
  return st;
}

void StoreSyncAdapter::setErrorHook(StoreErrorHook hook) { on_error_ = std::move(hook); }

void StoreSyncAdapter::dropMalformed(const DeviceId& from, const char* what, const Status& why) {
  ++stats_.malformed;
  MS_LOG(kWarn, "sync") << "malformed " << what << " from " << from.shortString() << ": " << why.toString();
  reportError(StorePhase::kDecode, {}, from, why);
}

void StoreSyncAdapter::reportError(StorePhase phase, const std::string& store_id, const DeviceId& device,
                                   Status status) {
  if (!on_error_) return;
  // Not now: the failure happens deep inside a flush or a message, where a hook that removes a
  // store (or stops us) would pull the state out from under the caller.
  env_.post([this, alive = alive_, error = StoreError{phase, store_id, device, std::move(status)}] {
    if (!*alive || stopped_ || !on_error_) return;
    const StoreErrorHook hook = on_error_;  // the hook may replace itself
    hook(error);
  });
}

}  // namespace meshslice
