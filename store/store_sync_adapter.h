// StoreSyncAdapter: replicates the slices of every registered store across the mesh, over the
// bus namespace "ms.sync" (store/sync_message.h). Each device sends only its own slices, and
// only a slice whose device is the authenticated sender is accepted. Rules (docs/STORES.md):
//
// - New link (first join and every re-link): each side sends a Digest of what it holds and a
//   SliceRequest for all stores. That join request is answered with the local slices, except
//   those the peer's join digest (which precedes its request) showed it already holds from
//   this run, so a re-link within the grace period sends no slice data. A SliceRequest naming
//   stores is answered with those local slices and a Digest of what we hold of the
//   requester's slices there.
// - Each store registration has an incarnation (a random nonzero 64-bit nonce); slices carry
//   it, and digests report the incarnation each held slice came with. An equal version from
//   this incarnation is current; from another one it is a leftover of an earlier run and is
//   repaired (needsRepair in store/version_clock.h).
// - A store added while links are up does the join exchange for itself with every peer.
// - Local changes are flushed once per loop turn, newest state only. A peer whose queue holds
//   more than max_pending_bytes_per_peer is "owed": it gets the newest state once its queue
//   drains (onPeerDrained, a recheck timer, or the next anti-entropy round), so a peer that
//   stops reading costs bounded memory and does not hold up the others.
// - Anti-entropy every anti_entropy_interval (jittered): a Digest of (store, device, version,
//   incarnation) to each peer. The receiver pushes its own newer slices, pulls the sender's
//   newer ones and repairs its own version if the sender holds our slice at a version we must
//   exceed.
// - PeerLeft: the device's slices leave every store with the reason. stop(): every store's
//   remote slices are cleared and nothing is sent any more.
// - Peers whose link negotiated protocol version 1 get the version 1 message forms (no
//   incarnations); with them the timing rule of the join digest alone decides repairs.
// - Deltas (protocol 3, capability "delta"; store/slice_delta.h, docs/STORES.md section 5): a
//   peer known to hold an earlier version of a large local slice from this incarnation (we
//   sent it on this link, or its digest said so) gets the new version as a delta against it,
//   when we still keep that base (store/delta_bases.h) and the delta is small enough. A
//   receiver applies a delta only on top of exactly the base it names and checks the result's
//   digest; otherwise it refuses (DeltaRefused) and the sender sends the full slice.
// - Bounds (store/version_clock.h), judged with env's wall clock (which must be the stores'
//   clock: both are the system's by default): a claim about our slice that a repair could only
//   follow to kMaxRepairLead or more ahead of our clock is refused (repairs_refused), and the
//   sender's own versions beyond our clock + kMaxAcceptLead are neither applied nor requested
//   (versions_implausible).
//
// - Contracts (capability "contract"; store/store_contract.h, docs/STORES.md section 6): on
//   each new link, and for a store added later, a StoreContracts message precedes the digest.
//   A store whose contract is incompatible with the peer's gets nothing from that peer and
//   sends nothing to it (no slice, delta, digest entry or request is acted on), is reported
//   once per link and contract (ContractEvent, contract_mismatches) and heals when either
//   side re-registers the store with a compatible contract: the pair then does the store's
//   join exchange. A peer without the capability declares nothing: it syncs as before.
// - Errors (store/store_error.h, docs/STORES.md section 8): a message that does not decode, a
//   slice the store refuses, a repair that cannot be saved, a send the bus refuses and a
//   contract mismatch are counted, logged and handed once to the error hook, by phase.
//
// Threading: loop thread only (the thread that runs `env`'s callbacks and `core`). Stores may
// be written from any thread: their change signal is posted to the loop. `env` and `core`
// must outlive the adapter; a store must stay alive until it is removed or the adapter is
// destroyed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "mesh/mesh_core.h"
#include "store/delta_bases.h"
#include "store/remote_trees.h"
#include "store/held_incarnations.h"
#include "store/slice_delta.h"
#include "store/slice_removal.h"
#include "store/store_error.h"
#include "store/sync_message.h"
#include "store/syncable_store.h"

namespace meshslice {

struct AdapterOptions {
  // Period of digests to each peer; each round is jittered by +-25%.
  Micros anti_entropy_interval = 5 * kSeconds;
  // Above this many bytes queued towards a peer, it only gets the newest state later.
  size_t max_pending_bytes_per_peer = 256 * 1024;
  // How often an owed peer's queue is checked. The link's own drained signal only fires after
  // its queue filled up, which this threshold normally prevents, so this check is what notices
  // a slow peer catching up.
  // Short, because a peer that is owed waits for it (e.g. a newcomer fetching large slices);
  // the timer only runs while some peer is owed.
  Micros owed_recheck_interval = 10 * kMillis;
  // The highest protocol version whose sync forms this adapter uses (and whose incarnations it
  // heeds). Lower it only to behave like an older build in mixed-version tests.
  uint32_t max_protocol_version = kProtocolVersion;
  // Send deltas to peers that take them (protocol 3 and capability "delta"). Receiving them is
  // always on.
  bool deltas = true;
  // Check them with tree digests (type 8) for peers that also list "delta-tree"; off: type 6
  // to every delta peer, as the previous build (mixed-build tests).
  bool tree_digests = true;
  // A delta is sent only if it encodes to at most this share (percent) of the full slice:
  // above it the digest both sides compute would cost more than the bytes saved.
  size_t max_delta_percent = 25;
};

struct SyncStats {
  uint64_t slices_sent = 0;
  uint64_t slices_applied = 0;
  uint64_t slices_stale = 0;          // equal or older versions ignored
  uint64_t slices_rejected = 0;       // data the store refused (does not decode)
  uint64_t slices_spoofed = 0;        // slice.device_id != authenticated sender: dropped
  uint64_t slices_unknown_store = 0;  // for a store not registered here
  uint64_t requests_sent = 0, requests_received = 0;
  uint64_t digests_sent = 0, digests_received = 0;
  uint64_t repairs = 0;               // local versions raised above a peer's record
  uint64_t malformed = 0;             // undecodable sync messages
  uint64_t from_unlinked = 0;         // messages from a peer not (or no longer) linked
  uint64_t deferrals = 0;             // times a peer became owed
  uint64_t send_errors = 0;
  uint64_t persist_errors = 0;        // repaired local versions the store could not save
  uint64_t join_skips = 0;            // local slices a join did not re-send: the peer held them
  uint64_t slice_bytes_sent = 0;      // encoded SliceUpdates and SliceDeltas handed to the bus
  uint64_t deltas_sent = 0;
  uint64_t deltas_applied = 0;
  uint64_t tree_deltas_sent = 0;     // of deltas_sent: checked by a tree digest (type 8)
  uint64_t tree_deltas_applied = 0;  // of deltas_applied
  uint64_t deltas_stale = 0;          // for a version not newer than the one held: ignored
  uint64_t deltas_refused = 0;        // refused (DeltaRefused sent), by reason below
  uint64_t deltas_refused_unknown_base = 0;
  uint64_t deltas_refused_digest = 0;
  uint64_t deltas_refused_malformed = 0;
  uint64_t delta_refusals_received = 0;  // our deltas a peer refused: it got the full slice
  // A peer claimed to hold our slice at a version beyond our clock + kMaxRepairLead: a lie (or a
  // leftover of one), refused: no repair, no floor change (store/version_clock.h).
  uint64_t repairs_refused = 0;
  // A SliceUpdate or digest entry of the sender's own slice beyond our clock + kMaxAcceptLead:
  // never stored, never requested.
  uint64_t versions_implausible = 0;
  uint64_t contract_mismatches = 0;      // (peer, store) pairs found incompatible, per link
  uint64_t slices_contract_refused = 0;  // slices and deltas of a mismatched store: not applied
  uint64_t contracts_sent = 0, contracts_received = 0;
  uint64_t removals_sent = 0;     // SliceRemoved messages sent (retractStore, digest repairs)
  uint64_t removals_applied = 0;  // peers' slices dropped because their owner removed them
};

// A store's contract disagrees with a peer's (mismatched) or agrees again (healed).
struct ContractEvent {
  DeviceId peer;
  std::string store_id;
  StoreContract local;
  StoreContract remote;
  bool mismatched = true;
};
// Contracts a peer may announce (stores it has); more are ignored.
inline constexpr size_t kMaxPeerContracts = 1024;
// Retracted stores remembered (to answer digests that still list our slice of them).
inline constexpr size_t kMaxStoresRetracted = 1024;

// Refused claims and versions are logged at most once per this interval (all are counted).
inline constexpr Micros kRefusalLogInterval = 10 * kSeconds;

class StoreSyncAdapter final : public PeerObserver {
 public:
  // Registers with `core` as an observer and on the bus; peers already linked get the join
  // exchange at once.
  StoreSyncAdapter(Env& env, MeshCore& core, AdapterOptions options = {});
  // stop()s if still running.
  ~StoreSyncAdapter();
  StoreSyncAdapter(const StoreSyncAdapter&) = delete;
  StoreSyncAdapter& operator=(const StoreSyncAdapter&) = delete;

  // Starts syncing `store` under a new incarnation, doing the join exchange for it with every
  // linked peer. kInvalidArgument for a bad store ID, kAlreadyExists for a second store with
  // its ID, kClosed after stop().
  Status addStore(ISyncableStore& store);
  // Stops syncing a store and clears its remote slices. kNotFound if not registered. Peers
  // keep our slice of it until we go offline. May be called from a store's listener, also
  // while the adapter evicts a peer or stops (the remaining stores are still handled); the
  // removed store must then outlive the listener call it is in.
  Status removeStore(const std::string& store_id);
  // Deletes this device's slice of a store from the mesh (docs/STORES.md section 7): stops
  // syncing it as removeStore() does, and tells every linked peer whose Hello lists
  // "lifecycle" to drop our slice (SliceRemoved at the store's last local version); a peer
  // whose digest still lists it later is told again. Peers without the capability keep the
  // slice until we go offline. The store object is untouched: the caller deletes its data.
  // kNotFound if not registered. The retraction holds (digests listing our slice are answered
  // with SliceRemoved) until the store is registered again and written.
  Status retractStore(const std::string& store_id);
  // Clears every store's remote slices and detaches from stores, bus and core. Idempotent.
  void stop();

  const SyncStats& stats() const { return stats_; }
  // Called on the loop thread for every ContractEvent; nullptr removes it.
  void setContractListener(std::function<void(const ContractEvent&)> listener);
  // The (peer, store) pairs mismatched now.
  std::vector<ContractEvent> contractMismatches() const;
  // Called once for every failure counted in stats() as malformed, slices_rejected,
  // persist_errors, send_errors or contract_mismatches (store/store_error.h); nullptr removes
  // it. Runs on the loop thread, on a later loop turn than the failure (so it may call back
  // into the adapter, e.g. removeStore()); a failure whose turn comes after stop() or the
  // adapter's destruction is not reported.
  void setErrorHook(StoreErrorHook hook);
  bool isOwed(const DeviceId& peer) const;
  // The incarnation of a registered store (0 if it is not registered).
  uint64_t incarnationOf(const std::string& store_id) const;

  // PeerObserver (called by the core).
  void onPeerLeft(const PeerLeft& event) override;
  void onPeerLinked(const DeviceId& peer) override;
  void onPeerDrained(const DeviceId& peer) override;

 private:
  struct PeerState {
    // Until the peer's all-stores SliceRequest arrives, its digests predate our slices on
    // this link: an equal version of our own slice there is a leftover of an earlier run.
    bool join_phase = true;
    // Stores whose local slice, at this version, the peer's join digest showed it holds from
    // this incarnation: the join request does not re-send them.
    std::map<std::string, uint64_t> join_current;
    uint32_t protocol_version = kMinProtocolVersion;  // of the link; the sync forms it gets
    bool owed = false;
    std::map<std::string, bool> dirty;     // store -> force (resend even if sent already)
    std::map<std::string, uint64_t> sent;  // store -> local version sent on this link
    bool delta = false;  // the link takes deltas (protocol 3, capability "delta", options)
    bool delta_tree = false;  // ...checked by a tree digest (capability "delta-tree"): type 8
    // store -> a version of our slice from this incarnation the peer is known to hold (sent on
    // this link or reported by its digest): the base a delta to it may use.
    std::map<std::string, uint64_t> holds;
    // store -> the version of the last delta sent: a DeltaRefused for it gets the full slice
    // (one full slice per delta sent, so refusals cannot make us send more).
    std::map<std::string, uint64_t> delta_sent;
    bool contracts = false;  // the link carries StoreContracts (capability "contract")
    std::map<std::string, StoreContract> remote_contracts;  // as announced, <= kMaxPeerContracts
    // Registered stores incompatible with the peer's contract -> the contract reported.
    std::map<std::string, StoreContract> mismatched;
    bool lifecycle = false;  // the peer's Hello lists "lifecycle": it takes SliceRemoved
  };
  // Local changes reported from any thread.
  struct ChangeQueue {
    std::mutex mutex;
    std::set<std::string> stores;
    bool posted = false;
  };

  void joinExchange(const DeviceId& peer, bool join_phase);
  void joinStore(const DeviceId& peer_id, PeerState& peer, const std::string& store_id);
  void onSyncMessage(const DeviceId& from, ByteView payload);
  void handleUpdate(const DeviceId& from, const PeerState& peer, SliceUpdate& update);
  // Applies a slice of the sender's own (authenticated, for a registered store; its data is
  // handed to the store, not copied) and records the incarnation it came with.
  void applyFromOwner(const DeviceId& from, const PeerState& peer, const std::string& store_id,
                      ISyncableStore& store, DeviceSlice&& slice, uint64_t incarnation);
  void handleRequest(const DeviceId& from, PeerState& peer, const SliceRequest& request);
  void handleDigest(const DeviceId& from, PeerState& peer, const Digest& digest);
  void onLocalChanges();
  void markDirty(PeerState& peer, const std::string& store_id, bool force);
  void scheduleFlush();
  void flushAll();
  // A local slice read once per flush and encoded (on first use) for every peer it goes to.
  struct EncodedSlice {
    uint64_t version = 0;  // 0: nothing to send
    std::shared_ptr<const DeviceSlice> slice;
    Bytes message;         // the encoded SliceUpdate (current form)
    Bytes message_v1;      // the protocol 1 form
    // (base version, tree digest) -> SliceDelta (nullopt: none)
    std::map<std::pair<uint64_t, bool>, std::optional<Bytes>> deltas;
    bool to_delta_peer = false;  // sent to a peer that takes deltas: keep it as a base
  };
  using FlushCache = std::map<std::string, EncodedSlice>;
  EncodedSlice& encodedLocal(const std::string& store_id, FlushCache& cache) const;
  void flushPeer(const DeviceId& id, PeerState& peer);
  void flushPeer(const DeviceId& id, PeerState& peer, FlushCache& cache);
  // The message that brings `peer` to `slice`: a delta if it can have one, else the full form.
  ByteView messageFor(const std::string& store_id, const PeerState& peer, EncodedSlice& slice, bool& is_delta);
  std::optional<Bytes> makeDelta(const std::string& store_id, const EncodedSlice& slice, uint64_t base_version,
                                 bool tree);
  // Delta receiving (store/store_sync_adapter_delta.cc).
  void onDeltaMessage(const DeviceId& from, PeerState& peer, ByteView payload);
  void handleDelta(const DeviceId& from, PeerState& peer, const SliceDelta& delta);
  void refuseDelta(const DeviceId& from, const SliceDelta& delta, DeltaRefusal reason, const Status& why);
  void handleDeltaRefused(PeerState& peer, const DeltaRefused& refused);
  // Store lifecycle (store/store_sync_adapter_lifecycle.cc).
  void onLifecycleMessage(const DeviceId& from, ByteView payload);
  void sendRemoved(const DeviceId& peer_id, const PeerState& peer, const std::string& store_id, uint64_t version);
  // A digest entry of our own slice in a store not registered, or never written since it was
  // registered again: a retracted one?
  void onDigestOfRetracted(const DeviceId& from, const PeerState& peer, const DigestEntry& entry);
  // A digest or a join says the peer holds `version` of our slice from this incarnation.
  static void noteHolds(PeerState& peer, const std::string& store_id, uint64_t version);
  void markOwed(PeerState& peer);
  void onOwedRecheck();
  void onAntiEntropy();
  void armAntiEntropy();
  // Entries for `store_ids` (null: every store): our slice and each remote one, or with
  // `owner` only that device's remote slices.
  std::vector<DigestEntry> digestEntries(const std::vector<std::string>* store_ids = nullptr,
                                         const DeviceId* owner = nullptr) const;
  // The sync forms a peer gets: its link's protocol version, capped by the options.
  uint32_t versionFor(const PeerState& peer) const;
  void sendDigests(const DeviceId& peer, const std::vector<Digest>& digests);
  void sendRequest(const DeviceId& peer, std::vector<std::string> store_ids);
  Status send(const DeviceId& peer, const SyncMessage& message);
  // `store_id`: the store the message is about, "" if several or none (for the error hook).
  Status sendEncoded(const DeviceId& peer, ByteView message, const std::string& store_id = {});
  // Hands a failure to the error hook on the next loop turn.
  void reportError(StorePhase phase, const std::string& store_id, const DeviceId& device, Status status);
  // A message from `from` that did not decode (`what`: "sync message", "contracts", ...):
  // counted as malformed, logged and reported; the caller drops it.
  void dropMalformed(const DeviceId& from, const char* what, const Status& why);
  ISyncableStore* findStore(const std::string& id) const;
  // Calls f(store) for every registered store, for calls that fire the store's listeners
  // (removals): a listener may remove any store meanwhile (the C API's ms_store_free does),
  // so each one is looked up again and a removed one is skipped.
  void forEachStoreFiringListeners(const std::function<void(ISyncableStore&)>& f);
  // Contracts (store/store_sync_adapter_contract.cc).
  void sendContracts(const DeviceId& peer_id, const PeerState& peer, const std::vector<std::string>* store_ids);
  void handleContracts(const DeviceId& from, PeerState& peer, ByteView payload);
  // Compares the peer's contract for a registered store with ours; reports and heals.
  void checkContract(const DeviceId& peer_id, PeerState& peer, const std::string& store_id, bool on_join);
  static bool refuses(const PeerState& peer, const std::string& store_id) { return peer.mismatched.count(store_id) > 0; }
  // Logs a refused claim or version, at most once per kRefusalLogInterval.
  void logRefusal(const DeviceId& from, const std::string& what);

  Env& env_;
  MeshCore& core_;
  AdapterOptions options_;
  std::map<std::string, ISyncableStore*> stores_;
  std::map<std::string, uint64_t> incarnations_;  // per registered store
  // Stores retracted (retractStore) -> the version removed; at most kMaxStoresRetracted, the
  // lowest versions forgotten first.
  std::map<std::string, uint64_t> retracted_;
  HeldIncarnations held_;
  DeltaBases bases_;  // versions of our slices kept as delta bases
  RemoteTrees remote_trees_;  // tree digests of remote slices that came as tree-checked deltas
  std::map<DeviceId, PeerState> peers_;
  Subscription subscription_;
  std::unique_ptr<Timer> anti_entropy_timer_;
  std::unique_ptr<Timer> owed_timer_;
  std::shared_ptr<ChangeQueue> changes_ = std::make_shared<ChangeQueue>();
  bool flush_posted_ = false;
  bool stopped_ = false;
  SyncStats stats_;
  std::optional<Micros> last_refusal_log_;
  std::function<void(const ContractEvent&)> on_contract_;
  StoreErrorHook on_error_;  // the one set when a delivery task runs is the one called
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshslice
