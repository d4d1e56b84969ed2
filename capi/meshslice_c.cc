// The C API's errors, identity helpers, nodes, peers and message bus (capi/meshslice.h).
// Stores are in capi/store_c.cc.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "capi/capi_internal.h"

using namespace meshslice;
using namespace meshslice::capi;

namespace meshslice::capi {

namespace {
thread_local std::string t_last_error;

#ifndef MESHSLICE_VERSION
#error "the build defines MESHSLICE_VERSION (the project version)"
#endif
const char* kVersion = MESHSLICE_VERSION;
}  // namespace

int fail(const Status& status) {
  t_last_error = status.message().empty() ? codeName(status.code()) : status.message();
  if (status.code() == Code::kWrongThread) return MS_ERR_WRONG_THREAD;
  return static_cast<int>(status.code());  // MS_ERR_* mirror Code one to one up to MS_ERR_INTERNAL
}

int fail(int code, std::string message) {
  t_last_error = std::move(message);
  return code;
}

void misuse(const char* function, const char* what) {
  std::fprintf(stderr, "meshslice: misuse of the C API in %s: %s\n", function, what);
  std::abort();
}

int copyText(std::string_view text, char* buf, size_t cap, size_t* len) {
  if (len) *len = text.size();
  if (cap < text.size() + 1) {
    return fail(MS_ERR_BUFFER_TOO_SMALL, "buffer of " + std::to_string(cap) + " bytes too small for " +
                                             std::to_string(text.size() + 1));
  }
  MS_CAPI_REQUIRE(buf);
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return ok();
}

void PeerFanOut::add(std::shared_ptr<PeerGate> gate) {
  std::lock_guard lock(mutex_);
  gates_.push_back(std::move(gate));
}

void PeerFanOut::remove(const std::shared_ptr<PeerGate>& gate) {
  std::lock_guard lock(mutex_);
  std::erase(gates_, gate);
}

size_t PeerFanOut::size() const {
  std::lock_guard lock(mutex_);
  return gates_.size();
}

void PeerFanOut::emit(const ms_peer_event& event) {
  std::vector<std::shared_ptr<PeerGate>> gates;
  {
    std::lock_guard lock(mutex_);
    gates = gates_;
  }
  for (auto& gate : gates) gate->invoke(&event);
}

void PeerFanOut::emitPeer(ms_peer_event_kind kind, const PeerInfo& info) {
  const std::string id = info.id.toString();
  ms_peer_event event{};
  event.kind = kind;
  event.peer = {id.c_str(), info.name.c_str(), info.address.c_str(), info.protocol_version};
  event.reason = "";
  emit(event);
}

void PeerFanOut::onPeerJoined(const PeerJoined& e) { emitPeer(MS_PEER_JOINED, e.peer); }

void PeerFanOut::onPeerUpdated(const PeerUpdated& e) { emitPeer(MS_PEER_UPDATED, e.peer); }

void PeerFanOut::onPeerLeft(const PeerLeft& e) {
  const std::string id = e.id.toString();
  ms_peer_event event{};
  event.kind = MS_PEER_LEFT;
  event.peer = {id.c_str(), "", "", 0};
  event.reason = leaveReasonName(e.reason);
  emit(event);
}

}  // namespace meshslice::capi

namespace {

Result<MeshNodeOptions> toOptions(const ms_node_config& c) {
  MeshNodeOptions o;
  if (c.listen_address) o.mesh.listen_address = c.listen_address;
  for (size_t i = 0; i < c.static_peer_count; ++i) {
    MS_CAPI_REQUIRE(c.static_peers && c.static_peers[i]);
    o.mesh.static_peers.emplace_back(c.static_peers[i]);
  }
  if (c.liveness_timeout_ms) o.mesh.liveness_timeout = Micros{c.liveness_timeout_ms} * kMillis;
  o.mdns = c.mdns != 0;
  for (size_t i = 0; i < c.mdns_interface_count; ++i) {
    MS_CAPI_REQUIRE(c.mdns_interfaces && c.mdns_interfaces[i]);
    o.mdns_options.interfaces.emplace_back(c.mdns_interfaces[i]);
  }
  if (c.mdns_port) o.mdns_options.port = c.mdns_port;
  o.host_loop = reinterpret_cast<uv_loop_t*>(c.host_loop);
  return o;
}

Result<Identity> makeIdentity(const ms_node_config& c) {
  const std::string name = c.name ? c.name : "meshslice";
  MS_RETURN_IF_ERROR(validateDeviceName(name));
  if (c.state_dir) return Identity::loadOrCreate(c.state_dir, name);
  return Identity::generate(name);
}

// Loop thread: the adapter syncs every store made so far; later ones register themselves.
Status startSyncOnLoop(ms_node* n, MeshCore& core) {
  n->adapter = std::make_unique<StoreSyncAdapter>(n->node->env(), core);
  n->adapter->setErrorHook([n](const StoreError& error) { n->store_errors.deliver(error); });
  std::vector<ms_store*> stores;
  {
    std::lock_guard lock(n->stores_mutex);
    n->state = NodeState::kRunning;
    stores = n->stores;
  }
  for (ms_store* s : stores) MS_RETURN_IF_ERROR(n->adapter->addStore(*s->store));
  return Status::ok();
}

bool ownLoopThread(const ms_node* n) { return !n->host_loop && n->node->onLoopThread(); }

}  // namespace

extern "C" {

const char* ms_last_error(void) { return t_last_error.c_str(); }

const char* ms_error_name(int code) {
  if (code == MS_ERR_BUFFER_TOO_SMALL) return "buffer-too-small";
  if (code == MS_ERR_WRONG_THREAD) return "wrong-thread";
  if (code < MS_OK || code > MS_ERR_INTERNAL) return "unknown";
  return codeName(static_cast<Code>(code));
}

const char* ms_version(void) { return kVersion; }

int ms_set_log_level(int level) {
  if (level < 0 || level > static_cast<int>(LogLevel::kOff)) {
    return fail(MS_ERR_INVALID_ARGUMENT, "log level must be 0..5");
  }
  setLogLevel(static_cast<LogLevel>(level));
  return ok();
}

int ms_invite_new(char* buf, size_t cap, size_t* len) {
  return guard([&] { return copyText(MeshSecret::generate().toInvite(), buf, cap, len); });
}

int ms_invite_check(const char* invite) {
  MS_CAPI_REQUIRE(invite);
  return guard([&] {
    auto secret = MeshSecret::fromInvite(invite);
    return secret ? ok() : fail(secret.status());
  });
}

int ms_identity_load_or_create(const char* state_dir, const char* name_if_new, char* buf, size_t cap,
                               size_t* len) {
  MS_CAPI_REQUIRE(state_dir);
  return guard([&] {
    const std::string name = name_if_new ? name_if_new : "meshslice";
    if (Status st = validateDeviceName(name); !st.isOk()) return fail(st);
    auto identity = Identity::loadOrCreate(state_dir, name);
    if (!identity) return fail(identity.status());
    return copyText(identity->deviceId().toString(), buf, cap, len);
  });
}

void ms_node_config_init_sized(ms_node_config* config, size_t size) {
  MS_CAPI_REQUIRE(config);
  MS_CAPI_REQUIRE(size >= sizeof(size_t));
  std::memset(config, 0, size);
  config->struct_size = size;
}

namespace {

// The caller's config as this library's struct: its first struct_size bytes, the rest default.
// Reads nothing past the caller's struct_size.
Result<ms_node_config> readConfig(const ms_node_config* caller) {
  const size_t size = caller->struct_size;
  if (size < offsetof(ms_node_config, invite) + sizeof(caller->invite))
    return invalidArgument("config.struct_size is " + std::to_string(size) +
                           ": start the config from ms_node_config_init()");
  ms_node_config c{};
  std::memcpy(&c, caller, std::min(size, sizeof c));
  const auto* bytes = reinterpret_cast<const unsigned char*>(caller);
  for (size_t i = sizeof c; i < size; ++i)
    if (bytes[i] != 0)
      return invalidArgument("the config sets fields this library (" MESHSLICE_VERSION
                             ") does not know: it needs a newer libmeshslice");
  c.struct_size = sizeof c;
  return c;
}

}  // namespace

int ms_node_new(const ms_node_config* caller_config, ms_node** out) {
  MS_CAPI_REQUIRE(caller_config);
  MS_CAPI_REQUIRE(out);
  return guard([&] {
    auto read = readConfig(caller_config);
    if (!read) return fail(read.status());
    const ms_node_config* config = &read.value();
    if (!config->invite) return fail(MS_ERR_INVALID_ARGUMENT, "config.invite is required");
    auto secret = MeshSecret::fromInvite(config->invite);
    if (!secret) return fail(secret.status());
    auto options = toOptions(*config);
    if (!options) return fail(options.status());
    auto identity = makeIdentity(*config);
    if (!identity) return fail(identity.status());
    auto n = std::make_unique<ms_node>();
    n->host_loop = config->host_loop != nullptr;
    n->node = std::make_unique<MeshNode>(std::move(identity).value(), secret.value(), std::move(options).value());
    n->node->addObserver(&n->peers);  // before start(): sees every event
    *out = n.release();
    return ok();
  });
}

int ms_node_start(ms_node* n) {
  MS_CAPI_REQUIRE(n);
  return guard([&] {
    if (ownLoopThread(n)) return fail(MS_ERR_WRONG_THREAD, "ms_node_start inside a callback");
    if (n->state.load() != NodeState::kCreated) return fail(MS_ERR_ALREADY_EXISTS, "node already started");
    Status st = n->node->start();
    if (!st.isOk()) {
      n->state = NodeState::kStopped;
      return fail(st);
    }
    n->state = NodeState::kStarting;  // startSyncOnLoop() makes it kRunning
    Status sync = onLoop(n, [n](MeshCore& core) { return startSyncOnLoop(n, core); });
    return sync.isOk() ? ok() : fail(sync);
  });
}

int ms_node_stop(ms_node* n) {
  MS_CAPI_REQUIRE(n);
  return guard([&] {
    if (ownLoopThread(n)) return fail(MS_ERR_WRONG_THREAD, "ms_node_stop inside a callback");
    NodeState expected = NodeState::kRunning;
    if (!n->state.compare_exchange_strong(expected, NodeState::kStopping)) {
      if (expected == NodeState::kCreated) n->state = NodeState::kStopped;
      return ok();  // idempotent
    }
    onLoop(n, [n](MeshCore&) {
      if (n->adapter) n->adapter->stop();
      n->adapter.reset();
      return Status::ok();
    }).ignore();
    n->node->stop();
    if (!n->host_loop) n->state = NodeState::kStopped;
    return ok();
  });
}

int ms_node_stopped(const ms_node* n) {
  MS_CAPI_REQUIRE(n);
  const NodeState state = n->state.load();
  return state == NodeState::kStopped || (state == NodeState::kStopping && n->node->stopped());
}

void ms_node_free(ms_node* n) {
  if (!n) return;
  if (ownLoopThread(n)) misuse(__func__, "called inside a callback of the same node");
  {
    std::lock_guard lock(n->stores_mutex);
    if (!n->stores.empty()) misuse(__func__, "the node still has stores: ms_store_free them first");
  }
  if (n->subscriptions.load() != 0) misuse(__func__, "the node still has subscriptions: free them first");
  if (n->services.load() != 0) misuse(__func__, "the node still has services: ms_service_free them first");
  if (n->responders.load() != 0) misuse(__func__, "the node still has unanswered responders: release them first");
  if (n->peers.size() != 0) misuse(__func__, "the node still has peer watches: free them first");
  ms_node_stop(n);  // reports nothing more useful than "stopped"
  n->node.reset();
  delete n;
}

int ms_node_id(const ms_node* n, char* buf, size_t cap, size_t* len) {
  MS_CAPI_REQUIRE(n);
  return guard([&] { return copyText(n->node->id().toString(), buf, cap, len); });
}

int ms_node_listen_address(const ms_node* n, char* buf, size_t cap, size_t* len) {
  MS_CAPI_REQUIRE(n);
  return guard([&] {
    if (n->state.load() == NodeState::kCreated) return fail(MS_ERR_CLOSED, "the node has not started");
    return copyText(n->node->listenAddress(), buf, cap, len);
  });
}

int ms_node_peers(ms_node* n, ms_peer_fn fn, void* user, size_t* count) {
  MS_CAPI_REQUIRE(n);
  return guard([&] {
    auto peers = onLoop(n, [](MeshCore& core) { return Result<std::vector<PeerInfo>>(core.peers()); });
    if (!peers) return fail(peers.status());
    if (count) *count = peers->size();
    for (const PeerInfo& p : *peers) {
      const std::string id = p.id.toString();
      ms_peer_info info{id.c_str(), p.name.c_str(), p.address.c_str(), p.protocol_version};
      if (fn) fn(user, &info);
    }
    return ok();
  });
}

int ms_node_watch_peers(ms_node* n, ms_peer_event_fn fn, void* user, ms_peer_watch** out) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(fn);
  MS_CAPI_REQUIRE(out);
  return guard([&] {
    auto gate = std::make_shared<PeerGate>();
    gate->fn = fn;
    gate->user = user;
    n->peers.add(gate);
    *out = new ms_peer_watch{n, std::move(gate)};
    return ok();
  });
}

void ms_peer_watch_free(ms_peer_watch* watch) {
  if (!watch) return;
  watch->gate->close();
  watch->owner->peers.remove(watch->gate);
  delete watch;
}

// ---- bus ----

int ms_node_publish(ms_node* n, const char* ns, const void* data, size_t len, size_t* reached) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(ns);
  MS_CAPI_REQUIRE(data || len == 0);
  return guard([&] {
    Bytes payload(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
    auto result = onLoop(n, [&](MeshCore& core) { return core.bus().publish(ns, payload); });
    if (!result) return fail(result.status());
    if (reached) *reached = result->reached.size();
    return ok();
  });
}

int ms_node_send(ms_node* n, const char* device_id, const char* ns, const void* data, size_t len) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(device_id);
  MS_CAPI_REQUIRE(ns);
  MS_CAPI_REQUIRE(data || len == 0);
  return guard([&] {
    auto peer = DeviceId::parse(device_id);
    if (!peer) return fail(peer.status());
    Bytes payload(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
    Status st = onLoop(n, [&](MeshCore& core) { return core.bus().send(*peer, ns, payload); });
    return st.isOk() ? ok() : fail(st);
  });
}

int ms_node_subscribe(ms_node* n, const char* ns, ms_message_fn fn, void* user, ms_subscription** out) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(ns);
  MS_CAPI_REQUIRE(fn);
  MS_CAPI_REQUIRE(out);
  return guard([&] {
    auto gate = std::make_shared<MessageGate>();
    gate->fn = fn;
    gate->user = user;
    MessageHandler handler = [gate](const BusMessageEvent& m) {
      const std::string from = m.from.toString();
      const std::string name(m.ns);
      ms_message message{from.c_str(), name.c_str(), m.payload.data(), m.payload.size()};
      gate->invoke(&message);
    };
    auto sub = onLoop(n, [&](MeshCore& core) { return core.bus().subscribe(ns, std::move(handler)); });
    if (!sub) return fail(sub.status());
    ++n->subscriptions;
    *out = new ms_subscription{n, std::move(gate), std::make_shared<Subscription>(std::move(sub).value())};
    return ok();
  });
}

void ms_subscription_free(ms_subscription* s) {
  if (!s) return;
  s->gate->close();
  ms_node* n = s->owner;
  guard([&] {
    if (n->node->onLoopThread()) {
      s->subscription->reset();  // the bus allows this while it dispatches
    } else {
      // The bus is loop-thread only. If the loop is gone, so is the bus, and the subscription
      // is released here harmlessly.
      n->node->post([sub = std::move(s->subscription)](MeshCore&) { sub->reset(); });
    }
    return ok();
  });
  --n->subscriptions;
  delete s;
}

}  // extern "C"
