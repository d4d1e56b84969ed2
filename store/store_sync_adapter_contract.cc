// StoreSyncAdapter's side of store contracts (store/store_contract.h, docs/STORES.md section 6):
// announcing ours, judging the peer's, reporting and healing mismatches. The rest of the adapter
// is in store/store_sync_adapter.cc.
#include "base/log.h"
#include "store/store_sync_adapter.h"

namespace meshslice {

void StoreSyncAdapter::setContractListener(std::function<void(const ContractEvent&)> listener) {
  on_contract_ = std::move(listener);
}

std::vector<ContractEvent> StoreSyncAdapter::contractMismatches() const {
  std::vector<ContractEvent> out;
  for (const auto& [peer_id, peer] : peers_)
    for (const auto& [store_id, remote] : peer.mismatched)
      if (ISyncableStore* store = findStore(store_id)) out.push_back({peer_id, store_id, store->contract(), remote, true});
  return out;
}

void StoreSyncAdapter::sendContracts(const DeviceId& peer_id, const PeerState& peer,
                                     const std::vector<std::string>* store_ids) {
  if (!peer.contracts) return;  // a peer without the capability would count them as malformed
  std::vector<ContractEntry> entries;
  auto add = [&](const std::string& id, const ISyncableStore& store) { entries.push_back({id, store.contract()}); };
  if (store_ids) {
    for (const std::string& id : *store_ids)
      if (ISyncableStore* store = findStore(id)) add(id, *store);
  } else {
    for (const auto& [id, store] : stores_) add(id, *store);
  }
  for (const StoreContracts& m : splitContracts(std::move(entries)))
    if (sendEncoded(peer_id, encodeStoreContracts(m)).isOk()) ++stats_.contracts_sent;
}

void StoreSyncAdapter::handleContracts(const DeviceId& from, PeerState& peer, ByteView payload) {
  auto message = decodeStoreContracts(payload);
  if (!message) {
    return dropMalformed(from, "contracts", message.status());
  }
  ++stats_.contracts_received;
  for (ContractEntry& e : message->entries) {
    auto it = peer.remote_contracts.find(e.store_id);
    if (it == peer.remote_contracts.end()) {
      if (peer.remote_contracts.size() >= kMaxPeerContracts) continue;  // more stores than we could have
      it = peer.remote_contracts.emplace(e.store_id, StoreContract{}).first;
    }
    it->second = std::move(e.contract);
    checkContract(from, peer, e.store_id, false);
  }
}

void StoreSyncAdapter::checkContract(const DeviceId& peer_id, PeerState& peer, const std::string& store_id,
                                     bool on_join) {
  ISyncableStore* store = findStore(store_id);
  if (!store) return;
  auto announced = peer.remote_contracts.find(store_id);
  const StoreContract remote = announced == peer.remote_contracts.end() ? StoreContract{} : announced->second;
  const StoreContract local = store->contract();
  auto was = peer.mismatched.find(store_id);
  if (!contractsCompatible(local, remote)) {
    if (was != peer.mismatched.end() && was->second == remote) return;  // reported already
    peer.mismatched[store_id] = remote;
    ++stats_.contract_mismatches;
    Status mismatch(Code::kIncompatible, "store " + store_id + ": " + peer_id.shortString() + " has contract " +
                                             contractString(remote) + ", ours is " + contractString(local));
    MS_LOG(kWarn, "sync") << mismatch.message() << ": no slices of it are exchanged with that peer";
    reportError(StorePhase::kContract, store_id, peer_id, std::move(mismatch));
    if (on_contract_) on_contract_(ContractEvent{peer_id, store_id, local, remote, true});
    return;
  }
  if (was == peer.mismatched.end()) return;
  peer.mismatched.erase(was);
  MS_LOG(kInfo, "sync") << "store " << store_id << ": contracts with " << peer_id.shortString()
                        << " agree again (" << contractString(local) << ")";
  if (on_contract_) on_contract_(ContractEvent{peer_id, store_id, local, remote, false});
  if (on_join) return;  // the caller does the store's join exchange
  // The peer's side changed while the link was up: what the join skipped happens now.
  const std::vector<std::string> one = {store_id};
  sendDigests(peer_id, splitDigest(digestEntries(&one)));
  sendRequest(peer_id, {store_id});
  markDirty(peer, store_id, true);
  scheduleFlush();
}

}  // namespace meshslice
