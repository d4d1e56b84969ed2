// SyncedStore<T>: a ready ISyncableStore for any msgpack-serialisable T (MSGPACK_DEFINE or a
// msgpack-cxx adaptor). Each device writes its own value with set(); the values of the other
// devices arrive through StoreSyncAdapter and are read with get()/all() or watched with
// listen(). RawStore is the same store over raw bytes (no msgpack), for the daemon's JSON.
//
//   auto store = SyncedStore<Position>::open("positions", node_id, {persistence});
//   adapter.addStore(**store);
//   store->set(Position{1, 2});
//   auto handle = store->listen([](const auto& e) { ... });
//
// Thread-safe: every method may be called from any thread. Events: LocalChanged fires on the
// thread that called set(); PeerUpdated and PeerRemoved on the adapter's loop thread. Events
// are delivered outside the store's lock, so listeners may read the store (and even set());
// events of concurrent set() calls can arrive in either order (compare versions).
//
// The store must outlive its registration with an adapter (removeStore() or the adapter's
// destruction first).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "base/env.h"
#include "base/log.h"
#include "mesh/protocol_constants.h"
#include "store/listener_set.h"
#include "store/slice_persistence.h"
#include "store/slice_table.h"
#include "store/syncable_store.h"
#include "store/version_clock.h"

namespace meshslice {

struct StoreOptions {
  // Where the local slice is kept between runs; none: versions restart from the wall clock.
  std::shared_ptr<SlicePersistence> persistence;
  // Wall clock in ms since the Unix epoch (updated_at, version seeds). Default: the system's.
  std::function<int64_t()> wall_clock;
  // The store's contract (store/store_contract.h), overriding the one its type and codec give
  // (storeContractOf()). RawStore declares nothing unless given one here. Must be valid
  // (validateStoreContract(); open() refuses an invalid one).
  std::optional<StoreContract> contract;
};

// The schema a store of T declares. Specialise it to name the type and version it, e.g.
//   template <> struct meshslice::StoreSchema<Todo> {
//     static constexpr std::string_view name = "todo";
//     static constexpr uint32_t version = 2;
//   };
// Unspecialised, the schema is the codec's fingerprint of T's shape (the field types and, for
// JSON, names of a default-constructed T): builds whose T differ in shape refuse each other.
template <typename T>
struct StoreSchema {
  static constexpr std::string_view name = "";
  static constexpr uint32_t version = 0;
};

struct StoreStats {
  uint64_t local_writes = 0;
  uint64_t applied = 0;
  uint64_t stale = 0;     // equal or older versions ignored
  uint64_t rejected = 0;  // remote data that did not decode as the store's type
  uint64_t removed = 0;
  uint64_t repairs = 0;   // raiseLocalVersionAbove() calls that changed something
};

// Limits for decoding remote slice data as a user type. The data is at most kMaxSliceData
// bytes; these bound the decoder's allocations for hostile input.
inline constexpr size_t kSliceDataMaxDepth = 16;
inline constexpr size_t kSliceDataMaxContainer = 65536;

namespace detail {
// Bounded msgpack decoding of slice data: exactly one object, no trailing bytes. Never throws.
Result<msgpack::object_handle> unpackSliceData(ByteView data);
// "shape:" + 16 hex digits of a hash over `data`'s msgpack types and container sizes (not its
// values); "" if it does not decode.
std::string msgpackShape(ByteView data);
// "shape:" + 16 hex digits of BLAKE2b over a shape description.
std::string shapeFingerprint(std::string_view shape);
}  // namespace detail

template <typename T>
struct MsgpackCodec {
  static constexpr std::string_view kName = "msgpack";
  static std::string fingerprint() {
    auto data = encode(T{});
    return data ? detail::msgpackShape(*data) : std::string();
  }
  static Result<Bytes> encode(const T& value) {
    try {
      msgpack::sbuffer buffer;
      msgpack::pack(buffer, value);
      return Bytes(reinterpret_cast<const uint8_t*>(buffer.data()),
                   reinterpret_cast<const uint8_t*>(buffer.data()) + buffer.size());
    } catch (const std::exception& e) {
      return Status(Code::kInvalidArgument, std::string("msgpack encode: ") + e.what());
    }
  }
  static Result<T> decode(ByteView data) {
    auto handle = detail::unpackSliceData(data);
    if (!handle) return handle.status();
    try {
      T value{};
      handle->get().convert(value);
      return value;
    } catch (const std::exception& e) {
      return malformed(std::string("msgpack: not a value of the store's type: ") + e.what());
    }
  }
};

// The contract a SyncedStore<T, Codec> declares unless its options give one: the codec's kName
// (if it has one) and StoreSchema<T> or, unspecialised, the codec's fingerprint() of T.
template <typename T, typename Codec>
StoreContract storeContractOf() {
  StoreContract c;
  if constexpr (requires { Codec::kName; }) c.codec = std::string(Codec::kName);
  if constexpr (!StoreSchema<T>::name.empty()) {
    c.schema = std::string(StoreSchema<T>::name);
    c.version = StoreSchema<T>::version;
  } else if constexpr (requires { Codec::fingerprint(); }) {
    c.schema = Codec::fingerprint();
  }
  return c;
}

// Bytes in, bytes out.
struct RawCodec {
  static Result<Bytes> encode(const Bytes& value) { return value; }
  static Result<Bytes> decode(ByteView data) { return Bytes(data.begin(), data.end()); }
};

template <typename T, typename Codec = MsgpackCodec<T>>
class SyncedStore : public ISyncableStore {
 public:
  struct LocalChanged {
    T value;
    uint64_t version = 0;
  };
  struct PeerUpdated {
    DeviceId device;
    T value;
    uint64_t version = 0;
  };
  struct PeerRemoved {
    DeviceId device;
    LeaveReason reason;
  };
  using Event = std::variant<LocalChanged, PeerUpdated, PeerRemoved>;
  using Listener = std::function<void(const Event&)>;

  // A store without persistence (options.persistence must be empty: use open() to load one).
  // `store_id` must pass validateStoreId() (asserted).
  SyncedStore(std::string store_id, DeviceId local_device, StoreOptions options = {})
      : SyncedStore(Restore{}, std::move(store_id), local_device, std::move(options)) {
    assert(!persistence_ && "a store with persistence must be made with open()");
  }

  // Validates the store ID and restores the persisted local slice, if any. Refuses (error,
  // no store) when the saved slice is corrupt, another device's, or not a valid T: the
  // saved state is never silently dropped.
  static Result<std::unique_ptr<SyncedStore>> open(std::string store_id, DeviceId local_device,
                                                   StoreOptions options = {}) {
    MS_RETURN_IF_ERROR(validateStoreId(store_id));
    if (options.contract) MS_RETURN_IF_ERROR(validateStoreContract(*options.contract));
    std::unique_ptr<SyncedStore> store(
        new SyncedStore(Restore{}, std::move(store_id), local_device, std::move(options)));
    MS_RETURN_IF_ERROR(store->restore());
    return store;
  }

  ~SyncedStore() override = default;
  SyncedStore(const SyncedStore&) = delete;
  SyncedStore& operator=(const SyncedStore&) = delete;

  // Replaces this device's value: encodes it (kTooLarge past kMaxSliceData), stamps the next
  // version (kTooLarge if the version space is exhausted), persists it (an error leaves the
  // store unchanged), then tells the adapter and fires LocalChanged. Blocks for the
  // persistence write.
  Status set(const T& value) {
    auto data = Codec::encode(value);
    if (!data) return data.status();
    if (data->size() > kMaxSliceData) {
      return tooLarge("store " + store_id_ + ": value encodes to " + std::to_string(data->size()) +
                      " bytes, over the " + std::to_string(kMaxSliceData) + " byte slice limit");
    }
    uint64_t version = 0;
    {
      // Writers take turns (saved order = version order); readers are not held up by the save.
      std::lock_guard write(write_mutex_);
      DeviceSlice next;
      {
        std::lock_guard lock(mutex_);
        // At the top of the range a write could only keep the old version, which no peer
        // would take: an error, never a "success" that sends nothing (STORES.md section 2).
        if (versionSpaceExhausted(table_.local().version, table_.floor()))
          return tooLarge("store " + store_id_ + ": the version space is exhausted (version " +
                          std::to_string(kMaxVersion) + " reached); no further write can be synced");
        next = table_.nextLocal(std::move(data).value(), wall_clock_());
      }
      if (persistence_) MS_RETURN_IF_ERROR(persistence_->save(next));
      version = next.version;
      std::lock_guard lock(mutex_);
      table_.commitLocal(std::move(next));
      if constexpr (!kRawData) local_value_ = value;
      ++stats_.local_writes;
    }
    notifyLocalChange();
    if (listeners_.size()) listeners_.emit(Event{LocalChanged{value, version}});
    return Status::ok();
  }

  // This device's value; T{} if nothing was written yet.
  T local() const {
    std::lock_guard lock(mutex_);
    if constexpr (kRawData) return table_.local().data;
    return local_value_;
  }
  // Any device's value, the local one included once written; nullopt if none is held.
  std::optional<T> get(const DeviceId& device) const {
    std::lock_guard lock(mutex_);
    if (device == table_.localDevice()) {
      if (!table_.local().version) return std::nullopt;
      if constexpr (kRawData) return table_.local().data;
      return local_value_;
    }
    if constexpr (kRawData) {
      const DeviceSlice* slice = table_.remote(device);
      return slice ? std::optional<T>(slice->data) : std::nullopt;
    }
    auto it = remote_values_.find(device);
    return it == remote_values_.end() ? std::nullopt : std::optional<T>(it->second);
  }
  // Every held value by device, the local one included once written.
  std::map<DeviceId, T> all() const {
    std::lock_guard lock(mutex_);
    if constexpr (kRawData) {
      std::map<DeviceId, T> out;
      for (const auto& [id, slice] : table_.remotes()) out.emplace(id, slice.data);
      if (table_.local().version) out.emplace(table_.localDevice(), table_.local().data);
      return out;
    }
    std::map<DeviceId, T> out = remote_values_;
    if (table_.local().version) out.emplace(table_.localDevice(), local_value_);
    return out;
  }
  std::vector<DeviceSlice> remoteSlices() const {
    std::lock_guard lock(mutex_);
    std::vector<DeviceSlice> out;
    for (const auto& [id, slice] : table_.remotes()) out.push_back(slice);
    return out;
  }
  // Registers a listener until the handle is destroyed (see listener_set.h).
  ListenerHandle listen(Listener listener) { return listeners_.add(std::move(listener)); }
  StoreStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  const DeviceId& localDevice() const { return table_.localDevice(); }

  // ISyncableStore.
  const std::string& storeId() const override { return store_id_; }
  StoreContract contract() const override { return contract_; }
  DeviceSlice localSlice() const override {
    std::lock_guard lock(mutex_);
    return table_.local();
  }
  std::shared_ptr<const DeviceSlice> sharedLocalSlice() const override {
    std::lock_guard lock(mutex_);
    return table_.sharedLocal();
  }
  ApplyResult applyRemoteSlice(const DeviceSlice& slice) override { return takeRemoteSlice(DeviceSlice(slice)); }
  ApplyResult takeRemoteSlice(DeviceSlice&& slice) override;
  void removeRemoteSlice(const DeviceId& device, LeaveReason reason) override;
  void clearRemoteSlices() override;
  std::vector<HeldVersion> remoteVersions() const override {
    std::lock_guard lock(mutex_);
    return table_.remoteVersions();
  }
  bool readRemoteData(const DeviceId& device, uint64_t version,
                      const std::function<void(ByteView)>& reader) const override {
    std::lock_guard lock(mutex_);
    const DeviceSlice* slice = table_.remote(device);
    if (!slice || slice->version != version) return false;
    reader(slice->data);
    return true;
  }
  void setLocalChangeListener(std::function<void()> listener) override {
    std::lock_guard lock(change_mutex_);
    on_local_change_ = std::move(listener);
  }
  Status raiseLocalVersionAbove(uint64_t version) override;

 private:
  struct Restore {};
  SyncedStore(Restore, std::string store_id, DeviceId local_device, StoreOptions options)
      : store_id_(std::move(store_id)),
        persistence_(std::move(options.persistence)),
        wall_clock_(options.wall_clock ? std::move(options.wall_clock) : systemWallMillis),
        contract_(options.contract ? std::move(*options.contract) : storeContractOf<T, Codec>()),
        table_(local_device) {
    assert(validateStoreId(store_id_).isOk());
    assert(validateStoreContract(contract_).isOk());
  }

  Status restore();
  void notifyLocalChange() {
    // Held while calling so that clearing the listener waits for a call in progress.
    std::lock_guard lock(change_mutex_);
    if (on_local_change_) on_local_change_();
  }

  // RawStore's values are the slice data itself: kept once, in the table (a 1 MiB slice is
  // not copied into a second map per update); local_value_ and remote_values_ stay empty.
  static constexpr bool kRawData = std::is_same_v<Codec, RawCodec>;

  const std::string store_id_;
  const std::shared_ptr<SlicePersistence> persistence_;
  const std::function<int64_t()> wall_clock_;
  const StoreContract contract_;
  std::mutex write_mutex_;  // serialises local writes (set, repair), held across the save
  mutable std::mutex mutex_;  // guards the fields below; never held during I/O
  SliceTable table_;
  T local_value_{};
  std::map<DeviceId, T> remote_values_;
  StoreStats stats_;
  std::mutex change_mutex_;
  std::function<void()> on_local_change_;
  ListenerSet<Event> listeners_;
};

// Bytes in, bytes out (e.g. JSON text): nothing is rejected but oversized data.
using RawStore = SyncedStore<Bytes, RawCodec>;

// ---- implementation ----

template <typename T, typename Codec>
Status SyncedStore<T, Codec>::restore() {
  if (!persistence_) return Status::ok();
  auto loaded = persistence_->load();
  if (!loaded) {
    return Status(loaded.status().code(),
                  "store " + store_id_ + ": cannot restore the saved slice: " + loaded.status().message());
  }
  if (!loaded->has_value()) return Status::ok();
  DeviceSlice& slice = **loaded;
  if (slice.device_id != table_.localDevice()) {
    return invalidArgument("store " + store_id_ + ": the saved slice belongs to device " +
                           slice.device_id.toString() + ", not to this device");
  }
  auto value = Codec::decode(slice.data);
  if (!value) {
    return malformed("store " + store_id_ + ": the saved slice does not decode: " +
                     value.status().message());
  }
  if (const int64_t wall = wall_clock_(); !isPlausibleVersion(slice.version, wall)) {
    // Left by a peer's lie under a build without the bounds (or a clock far ahead then): no
    // peer of this build would accept it. Peers evicted our slices when we left, so starting
    // over from the clock is safe; the data is kept and the next set() saves the new version.
    const uint64_t restarted = nextLocalVersion(0, wall);
    MS_LOG(kWarn, "store") << "store " << store_id_ << ": the saved version " << slice.version
                           << " is implausibly far ahead of the clock; versions restart from the clock (v"
                           << restarted << ")";
    slice.version = restarted;
  }
  std::lock_guard lock(mutex_);
  if constexpr (!kRawData) local_value_ = std::move(value).value();
  table_.commitLocal(std::move(slice));
  return Status::ok();
}

template <typename T, typename Codec>
ApplyResult SyncedStore<T, Codec>::takeRemoteSlice(DeviceSlice&& slice) {
  assert(slice.device_id != table_.localDevice());
  {
    std::lock_guard lock(mutex_);
    if (!table_.isNewer(slice)) {
      ++stats_.stale;
      return ApplyResult::kStale;
    }
  }
  // Only the adapter's loop thread changes remote slices, so the check above still holds.
  // RawStore: the data cannot be invalid, and is copied only for an event someone listens to.
  const bool event = listeners_.size() > 0;
  Result<T> value = kRawData && !event ? Result<T>(T{}) : Codec::decode(slice.data);
  if (!value) {
    {
      std::lock_guard lock(mutex_);
      ++stats_.rejected;
    }
    MS_LOG(kWarn, "store") << "store " << store_id_ << ": rejected slice v" << slice.version
                           << " of " << slice.device_id.shortString() << ": "
                           << value.status().message();
    return ApplyResult::kRejected;
  }
  const DeviceId device = slice.device_id;
  const uint64_t version = slice.version;
  {
    std::lock_guard lock(mutex_);
    table_.putRemote(std::move(slice));
    if constexpr (!kRawData) remote_values_.insert_or_assign(device, value.value());
    ++stats_.applied;
  }
  if (event) listeners_.emit(Event{PeerUpdated{device, std::move(value).value(), version}});
  return ApplyResult::kApplied;
}

template <typename T, typename Codec>
void SyncedStore<T, Codec>::removeRemoteSlice(const DeviceId& device, LeaveReason reason) {
  {
    std::lock_guard lock(mutex_);
    if (!table_.removeRemote(device)) return;
    remote_values_.erase(device);
    ++stats_.removed;
  }
  listeners_.emit(Event{PeerRemoved{device, reason}});
}

template <typename T, typename Codec>
void SyncedStore<T, Codec>::clearRemoteSlices() {
  std::vector<DeviceId> removed;
  {
    std::lock_guard lock(mutex_);
    removed = table_.clearRemote();
    remote_values_.clear();
    stats_.removed += removed.size();
  }
  for (const DeviceId& id : removed) listeners_.emit(Event{PeerRemoved{id, LeaveReason::kStopped}});
}

template <typename T, typename Codec>
Status SyncedStore<T, Codec>::raiseLocalVersionAbove(uint64_t version) {
  Status saved = Status::ok();
  {
    std::lock_guard write(write_mutex_);
    DeviceSlice next;
    {
      std::lock_guard lock(mutex_);
      if (table_.local().version > version) return Status::ok();
      if (table_.local().version == 0 && table_.floor() >= version) return Status::ok();
      table_.raiseFloor(version);
      ++stats_.repairs;
      if (table_.local().version == 0) return Status::ok();  // the next set() lands above it
      next = table_.restampedLocal(version, wall_clock_());
      if (next.version <= table_.local().version) return Status::ok();  // the top of the range: nothing above
    }
    if (persistence_) {
      saved = persistence_->save(next);
      if (!saved.isOk()) {
        // The repair still holds in memory; after a restart peers report the version again.
        MS_LOG(kWarn, "store") << "store " << store_id_ << ": cannot persist repaired version: "
                               << saved.toString();
        saved = Status(saved.code(), "store " + store_id_ + ": cannot persist repaired version v" +
                                         std::to_string(next.version) + ": " + saved.message());
      }
    }
    std::lock_guard lock(mutex_);
    table_.commitLocal(std::move(next));
  }
  notifyLocalChange();
  return saved;
}

}  // namespace meshslice
