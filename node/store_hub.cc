#include "node/store_hub.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "mesh/key_file.h"
#include "store/file_persistence.h"
#include "store/sync_message.h"

namespace meshslice {

StoreHub::StoreHub(Env& env, MeshCore& core, std::string stores_dir, EventFn on_event, AdapterOptions options)
    : env_(env), core_(core), dir_(std::move(stores_dir)), on_event_(std::move(on_event)) {
  auto sub = core_.bus().subscribeReserved(kSyncNamespace, [this](const BusMessageEvent& m) { onSyncTraffic(m.payload); });
  if (sub) discovery_ = std::move(sub.value());
  else MS_LOG(kWarn, "stores") << "cannot watch sync traffic: " << sub.status().toString();
  adapter_ = std::make_unique<StoreSyncAdapter>(env_, core_, options);
  adapter_->setContractListener([this](const ContractEvent& e) {
    if (!on_event_) return;
    on_event_(Json{{"type", e.mismatched ? "contract_mismatch" : "contract_healed"},
                   {"store", e.store_id},
                   {"device", e.peer.toString()},
                   {"contract", contractString(e.local)},
                   {"peer_contract", contractString(e.remote)}});
  });
}

StoreHub::~StoreHub() {
  *alive_ = false;
  stop();
}

void StoreHub::stop() {
  if (stopped_) return;
  stopped_ = true;
  discovery_.reset();
  adapter_->stop();  // clears remote slices: listeners see slice_removed (stopped)
  for (auto& [id, e] : stores_) e.listener.reset();
}

Status StoreHub::open(const std::string& store_id) {
  if (stores_.count(store_id)) return Status::ok();
  if (stopped_) return Status(Code::kClosed, "the node is stopping");
  MS_RETURN_IF_ERROR(validateStoreId(store_id));
  if (stores_.size() >= kMaxStores) return Status(Code::kBusy, "too many stores (at most " + std::to_string(kMaxStores) + ")");
  MS_RETURN_IF_ERROR(ensurePrivateDir(dir_));
  StoreOptions options;
  options.persistence = std::make_shared<FilePersistence>(dir_ + "/" + store_id + std::string(kSliceFileSuffix), store_id);
  options.wall_clock = [this] { return env_.wallMillis(); };
  if (auto c = contracts_.find(store_id); c != contracts_.end()) options.contract = c->second;
  auto store = RawStore::open(store_id, core_.local().id, std::move(options));
  if (!store) return store.status();
  Entry entry;
  entry.store = std::move(store.value());
  entry.listener = entry.store->listen([this, store_id](const RawStore::Event& e) { onStoreEvent(store_id, e); });
  Status st = adapter_->addStore(*entry.store);
  if (!st.isOk()) return st;
  stores_.emplace(store_id, std::move(entry));
  MS_LOG(kInfo, "stores") << "store " << store_id << " open";
  return Status::ok();
}

Result<uint64_t> StoreHub::set(const std::string& store_id, const std::string& json_text) {
  if (json_text.size() > kMaxSliceData)
    return tooLarge("value is " + std::to_string(json_text.size()) + " bytes, over the " +
                    std::to_string(kMaxSliceData) + " byte slice limit");
  if (auto parsed = parseJson(json_text, kMaxValueDepth); !parsed) return invalidArgument("value: " + parsed.status().message());
  MS_RETURN_IF_ERROR(open(store_id));
  RawStore& store = *stores_.at(store_id).store;
  MS_RETURN_IF_ERROR(store.set(toBytes(json_text)));
  return store.localSlice().version;
}

Result<Json> StoreHub::get(const std::string& store_id, const std::optional<DeviceId>& device) const {
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return Status(Code::kNotFound, "no store '" + store_id + "'");
  const RawStore& store = *it->second.store;
  DeviceSlice local = store.localSlice();
  const DeviceId& self = core_.local().id;
  if (device) {
    if (*device == self) {
      if (local.version == 0) return Status(Code::kNotFound, "this device has no slice in '" + store_id + "' yet");
      return Json{{"store", store_id}, {"slice", sliceJson(local, true)}};
    }
    for (const auto& s : store.remoteSlices())
      if (s.device_id == *device) return Json{{"store", store_id}, {"slice", sliceJson(s, false)}};
    return Status(Code::kNotFound, "device " + device->toString() + " has no slice in '" + store_id + "'");
  }
  Json slices = Json::array();
  if (local.version != 0) slices.push_back(sliceJson(local, true));
  for (const auto& s : store.remoteSlices()) slices.push_back(sliceJson(s, false));
  return Json{{"store", store_id}, {"slices", std::move(slices)}};
}

Result<Json> StoreHub::remove(const std::string& store_id) {
  MS_RETURN_IF_ERROR(validateStoreId(store_id));
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return Status(Code::kNotFound, "no store '" + store_id + "'");
  const uint64_t version = it->second.store->localSlice().version;
  if (version == 0) return Status(Code::kNotFound, "this device has no slice in '" + store_id + "'");
  const size_t others = it->second.store->remoteVersions().size();
  const std::string path = dir_ + "/" + store_id + std::string(kSliceFileSuffix);
  // The file first: if it cannot go, nothing changed (a restart would bring the slice back).
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return ioError("cannot delete " + path + ": " + std::strerror(errno));
  it->second.listener.reset();  // the remote slices it drops now are not gone from the mesh
  MS_RETURN_IF_ERROR(adapter_->retractStore(store_id));
  stores_.erase(it);
  MS_LOG(kInfo, "stores") << "removed our slice of store " << store_id << " (v" << version << ")";
  if (on_event_)
    on_event_(Json{{"type", "slice_removed"}, {"store", store_id}, {"device", core_.local().id.toString()},
                   {"local", true}, {"reason", leaveReasonName(LeaveReason::kRemoved)}});
  // Others' slices are still in the mesh: open it again without ours; they come back at once.
  if (others > 0) MS_RETURN_IF_ERROR(open(store_id));
  return Json{{"store", store_id}, {"removed_version", version}, {"other_devices", others}};
}

void StoreHub::closeIfEmpty(const std::string& store_id) {
  auto it = stores_.find(store_id);
  if (it == stores_.end() || stopped_) return;
  const RawStore& store = *it->second.store;
  if (store.localSlice().version != 0 || !store.remoteVersions().empty()) return;
  adapter_->removeStore(store_id).ignore();
  stores_.erase(it);
  MS_LOG(kInfo, "stores") << "store " << store_id << " closed: no device holds a slice of it any more";
}

Json StoreHub::list() const {
  Json out = Json::array();
  std::map<std::string, Json> mismatched;
  for (const ContractEvent& m : adapter_->contractMismatches())
    mismatched[m.store_id].push_back({{"device", m.peer.toString()}, {"contract", contractString(m.remote)}});
  for (const auto& [id, e] : stores_) {
    uint64_t local_version = e.store->localSlice().version;
    size_t devices = e.store->remoteVersions().size() + (local_version ? 1 : 0);
    auto m = mismatched.find(id);
    out.push_back({{"store", id}, {"local_version", local_version}, {"devices", devices},
                   {"contract", contractString(e.store->contract())},
                   {"mismatched", m == mismatched.end() ? Json::array() : m->second}});
  }
  return out;
}

Json StoreHub::sliceJson(const DeviceSlice& slice, bool local) const {
  Json j{{"device", slice.device_id.toString()}, {"local", local}, {"version", slice.version},
         {"updated_at", slice.updated_at}};
  // Deeper than a request could carry (a library peer's data): shown as text, so that no
  // reply or event nests deeper than kMaxReplyDepth.
  auto value = parseJson(toString(slice.data), kMaxValueDepth);
  if (value) j["value"] = std::move(value.value());
  else putBytes(j, slice.data);
  return j;
}

void StoreHub::onStoreEvent(const std::string& store_id, const RawStore::Event& event) {
  if (!on_event_) return;
  Json e{{"store", store_id}};
  if (const auto* local = std::get_if<RawStore::LocalChanged>(&event)) {
    DeviceSlice s{core_.local().id, local->version, 0, local->value};
    e.update(sliceJson(s, true));
    e.erase("updated_at");
    e["type"] = "slice_updated";
  } else if (const auto* peer = std::get_if<RawStore::PeerUpdated>(&event)) {
    DeviceSlice s{peer->device, peer->version, 0, peer->value};
    e.update(sliceJson(s, false));
    e.erase("updated_at");
    e["type"] = "slice_updated";
  } else if (const auto* removed = std::get_if<RawStore::PeerRemoved>(&event)) {
    e["type"] = "slice_removed";
    e["device"] = removed->device.toString();
    e["reason"] = leaveReasonName(removed->reason);
    // Not from inside the adapter's call into this very store: on the next turn.
    if (removed->reason == LeaveReason::kRemoved)
      env_.post([this, alive = alive_, store_id] {
        if (*alive) closeIfEmpty(store_id);
      });
  }
  on_event_(e);
}

void StoreHub::onSyncTraffic(ByteView payload) {
  auto message = decodeSyncMessage(payload);
  if (!message) return;  // the adapter counts it
  std::vector<std::string> named;
  if (const auto* u = std::get_if<SliceUpdate>(&*message)) named.push_back(u->store_id);
  else if (const auto* d = std::get_if<Digest>(&*message))
    for (const auto& entry : d->entries)
      // A peer's copy of our own slice names a store we removed (or never wrote): not opened.
      if (entry.device_id != core_.local().id) named.push_back(entry.store_id);
  for (const auto& id : named) {
    if (stores_.count(id) || refused_.count(id)) continue;
    Status st = open(id);
    if (st.isOk()) continue;
    if (refused_.size() < kMaxStores) refused_.insert(id);
    MS_LOG(kWarn, "stores") << "not opening store '" << id << "' seen from a peer: " << st.toString();
  }
}

}  // namespace meshslice
