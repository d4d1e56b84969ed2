// The C API's stores (capi/meshslice.h): a RawStore per ms_store, synced by the node's one
// StoreSyncAdapter, which lives on the loop thread from ms_node_start() to ms_node_stop().
#include <cstdlib>
#include <cstring>

#include "capi/capi_internal.h"

using namespace meshslice;
using namespace meshslice::capi;

namespace {

// NULL: this device.
Result<DeviceId> deviceOrLocal(const ms_store* s, const char* device_id) {
  if (!device_id) return s->store->localDevice();
  return DeviceId::parse(device_id);
}

Result<Bytes> valueOf(const ms_store* s, const char* device_id) {
  auto device = deviceOrLocal(s, device_id);
  if (!device) return device.status();
  auto value = s->store->get(*device);
  if (!value) return Status(Code::kNotFound, "store " + s->store->storeId() + " holds no value of " + device->toString());
  return std::move(value).value();
}

void forget(ms_node* n, ms_store* s) {
  std::lock_guard lock(n->stores_mutex);
  std::erase(n->stores, s);
}

// retract: ms_store_delete(), which also tells peers to drop this device's value.
void freeStore(ms_store* s, bool retract = false);

}  // namespace

extern "C" {

int ms_store_new(ms_node* n, const char* store_id, ms_store** out) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(store_id);
  MS_CAPI_REQUIRE(out);
  return guard([&] {
    if (Status st = validateStoreId(store_id); !st.isOk()) return fail(st);
    auto s = std::make_unique<ms_store>();
    s->owner = n;
    s->store = std::make_shared<RawStore>(store_id, n->node->id());
    bool running = false;
    {
      std::lock_guard lock(n->stores_mutex);
      for (const ms_store* other : n->stores) {
        if (other->store->storeId() == store_id) {
          return fail(MS_ERR_ALREADY_EXISTS, std::string("the node already has a store ") + store_id);
        }
      }
      n->stores.push_back(s.get());
      running = n->state.load() == NodeState::kRunning;
    }
    if (running) {
      // Outside the lock: the loop thread may be inside a callback that makes a store too.
      Status st = onLoop(n, [&](MeshCore&) {
        return n->adapter ? n->adapter->addStore(*s->store) : Status::ok();  // stopping: local only
      });
      if (!st.isOk() && st.code() != Code::kClosed) {
        forget(n, s.get());
        return fail(st);
      }
    }
    *out = s.release();
    return ok();
  });
}

void ms_store_free(ms_store* s) {
  if (!s) return;
  if (s->listeners.load() != 0) misuse(__func__, "the store still has listeners: free them first");
  guard([s] {
    freeStore(s);
    return ok();
  });
}

int ms_store_delete(ms_store* s) {
  MS_CAPI_REQUIRE(s);
  if (s->listeners.load() != 0) misuse(__func__, "the store still has listeners: free them first");
  return guard([s] {
    freeStore(s, true);
    return ok();
  });
}

}  // extern "C"

namespace {

void freeStore(ms_store* s, bool retract) {
  ms_node* n = s->owner;
  forget(n, s);
  const std::string id = s->store->storeId();
  auto unregister = [n, &id, retract] {
    if (!n->adapter) return Status::ok();
    return retract ? n->adapter->retractStore(id) : n->adapter->removeStore(id);
  };
  if (n->node->onLoopThread() && n->state.load() != NodeState::kCreated) {
    // Perhaps inside this store's own event: unregister now, destroy on a later turn, when
    // the adapter and the store are done with the current call. If the loop refuses the task,
    // dropping it releases the store here.
    unregister().ignore();
    n->node->loop().post([keep = std::move(s->store)] {});
  } else {
    onLoop(n, [&](MeshCore&) { return unregister(); }).ignore();
  }
  delete s;
}

}  // namespace

extern "C" {

int ms_store_set(ms_store* s, const void* data, size_t len) {
  MS_CAPI_REQUIRE(s);
  MS_CAPI_REQUIRE(data || len == 0);
  return guard([&] {
    const auto* bytes = static_cast<const uint8_t*>(data);
    Status st = s->store->set(Bytes(bytes, bytes + len));
    return st.isOk() ? ok() : fail(st);
  });
}

int ms_store_get(ms_store* s, const char* device_id, void* buf, size_t cap, size_t* len) {
  MS_CAPI_REQUIRE(s);
  return guard([&] {
    auto value = valueOf(s, device_id);
    if (!value) return fail(value.status());
    if (len) *len = value->size();
    if (cap < value->size()) {
      return fail(MS_ERR_BUFFER_TOO_SMALL, "value of " + std::to_string(value->size()) + " bytes, buffer of " +
                                               std::to_string(cap));
    }
    if (!value->empty()) {
      MS_CAPI_REQUIRE(buf);
      std::memcpy(buf, value->data(), value->size());
    }
    return ok();
  });
}

int ms_store_get_alloc(ms_store* s, const char* device_id, uint8_t** data, size_t* len) {
  MS_CAPI_REQUIRE(s);
  MS_CAPI_REQUIRE(data);
  MS_CAPI_REQUIRE(len);
  return guard([&] {
    auto value = valueOf(s, device_id);
    if (!value) return fail(value.status());
    auto* copy = static_cast<uint8_t*>(std::malloc(value->empty() ? 1 : value->size()));
    if (!copy) return fail(MS_ERR_INTERNAL, "out of memory");
    if (!value->empty()) std::memcpy(copy, value->data(), value->size());
    *data = copy;
    *len = value->size();
    return ok();
  });
}

void ms_free(void* memory) { std::free(memory); }

int ms_store_each(ms_store* s, ms_slice_fn fn, void* user, size_t* count) {
  MS_CAPI_REQUIRE(s);
  return guard([&] {
    std::vector<DeviceSlice> slices = s->store->remoteSlices();
    DeviceSlice local = s->store->localSlice();
    if (local.version) slices.insert(slices.begin(), std::move(local));
    if (count) *count = slices.size();
    if (!fn) return ok();
    for (const DeviceSlice& slice : slices) {
      const std::string id = slice.device_id.toString();
      ms_slice out{id.c_str(), slice.data.data(), slice.data.size(), slice.version,
                   slice.device_id == s->store->localDevice()};
      fn(user, &out);
    }
    return ok();
  });
}

int ms_store_listen(ms_store* s, ms_store_event_fn fn, void* user, ms_store_listener** out) {
  MS_CAPI_REQUIRE(s);
  MS_CAPI_REQUIRE(fn);
  MS_CAPI_REQUIRE(out);
  return guard([&] {
    auto listener = std::make_unique<ms_store_listener>();
    listener->owner = s;
    listener->handle = s->store->listen([fn, user](const RawStore::Event& e) {
      ms_store_event event{};
      std::string id;
      if (const auto* u = std::get_if<RawStore::PeerUpdated>(&e)) {
        id = u->device.toString();
        event.kind = MS_STORE_PEER_UPDATED;
        event.slice = {id.c_str(), u->value.data(), u->value.size(), u->version, 0};
        event.reason = "";
      } else if (const auto* r = std::get_if<RawStore::PeerRemoved>(&e)) {
        id = r->device.toString();
        event.kind = MS_STORE_PEER_REMOVED;
        event.slice = {id.c_str(), nullptr, 0, 0, 0};
        event.reason = leaveReasonName(r->reason);
      } else {
        return;  // LocalChanged: runs on the writer's thread, and the writer knows already
      }
      fn(user, &event);
    });
    ++s->listeners;
    *out = listener.release();
    return ok();
  });
}

void ms_store_listener_free(ms_store_listener* listener) {
  if (!listener) return;
  listener->handle.reset();
  --listener->owner->listeners;
  delete listener;
}

}  // extern "C"

namespace meshslice::capi {

namespace {

ms_store_phase phaseOf(StorePhase phase) {
  switch (phase) {
    case StorePhase::kDecode: return MS_STORE_PHASE_DECODE;
    case StorePhase::kApply: return MS_STORE_PHASE_APPLY;
    case StorePhase::kPersist: return MS_STORE_PHASE_PERSIST;
    case StorePhase::kSend: return MS_STORE_PHASE_SEND;
    case StorePhase::kContract: return MS_STORE_PHASE_CONTRACT;
  }
  return MS_STORE_PHASE_DECODE;  // unreachable: every phase is listed
}

}  // namespace

void StoreErrorSink::deliver(const StoreError& error) {
  std::lock_guard lock(mutex);
  if (!fn) return;
  const std::string device = error.device.toString();
  const std::string message = error.status.message().empty() ? codeName(error.status.code()) : error.status.message();
  ms_store_error out{};
  out.struct_size = sizeof out;
  out.phase = phaseOf(error.phase);
  out.store_id = error.store.c_str();
  out.device_id = device.c_str();
  out.code = static_cast<int>(error.status.code());  // MS_ERR_* mirror Code (never kWrongThread here)
  out.message = message.c_str();
  fn(user, &out);
}

}  // namespace meshslice::capi

extern "C" {

int ms_node_set_store_error_cb(ms_node* n, ms_store_error_cb fn, void* user) {
  MS_CAPI_REQUIRE(n);
  return guard([&] {
    std::lock_guard lock(n->store_errors.mutex);  // waits out a call on the loop thread
    n->store_errors.fn = fn;
    n->store_errors.user = user;
    return ok();
  });
}

}  // extern "C"
