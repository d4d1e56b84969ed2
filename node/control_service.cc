#include "node/control_service.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "base/log.h"
#include "mesh/protocol_constants.h"
#include "node/state_dir.h"

namespace meshslice {
namespace {

Result<std::string> stringParam(const Json& params, const char* key) {
  if (!params.is_object() || !params.contains(key) || !params[key].is_string())
    return invalidArgument(std::string("missing string parameter '") + key + "'");
  return params[key].get<std::string>();
}

Result<DeviceId> deviceParam(const Json& params, const char* key) {
  auto text = stringParam(params, key);
  if (!text) return text.status();
  auto id = DeviceId::parse(*text);
  if (!id) return invalidArgument("bad device ID: " + id.status().message());
  return *id;
}

// Payload bytes from {"data": text} or {"data_base64": ...}.
Result<Bytes> bytesParam(const Json& params) {
  if (params.is_object() && params.contains("data") && params["data"].is_string())
    return toBytes(params["data"].get<std::string>());
  auto b64 = stringParam(params, "data_base64");
  if (!b64) return invalidArgument("missing parameter 'data' (string) or 'data_base64'");
  Bytes out(b64->size());
  size_t len = 0;
  if (sodium_base642bin(out.data(), out.size(), b64->data(), b64->size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return invalidArgument("data_base64 is not valid base64");
  out.resize(len);
  return out;
}

// "2026-12-07T17:18:11.123Z": the time stamp of every watch event.
std::string isoTime(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the compiler can imagine in each field
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

Json peerInfoJson(const PeerInfo& peer) {
  return Json{{"device", peer.id.toString()}, {"name", peer.name}, {"address", peer.address},
              {"protocol_version", peer.protocol_version}};
}

const std::map<std::string, ControlService::Method, std::less<>> ControlService::kMethods = {
    {"status", &ControlService::status},       {"peers", &ControlService::peers},
    {"stores", &ControlService::storesList},   {"get", &ControlService::get},
    {"set", &ControlService::set},             {"publish", &ControlService::publish},
    {"subscribe", &ControlService::subscribe}, {"unsubscribe", &ControlService::unsubscribe},
    {"watch", &ControlService::watch},         {"down", &ControlService::down},
    {"mesh.allow", &ControlService::allow},    {"mesh.revoke", &ControlService::revoke},
    {"mesh.allow_list", &ControlService::allowList}, {"remove", &ControlService::remove},
};

ControlService::ControlService(MeshCore& core, StoreHub& stores, DaemonInfo info, std::function<void()> request_stop)
    : core_(core), stores_(stores), info_(std::move(info)), request_stop_(std::move(request_stop)) {}

void ControlService::setAllowList(std::optional<std::set<DeviceId>> list) {
  allow_list_on_ = list.has_value();
  allowed_ = list.value_or(std::set<DeviceId>());
}

Result<Json> ControlService::call(std::string_view name, const Json& params, std::function<void()>* after_reply) {
  auto method = kMethods.find(name);
  if (method == kMethods.end() || name == "subscribe" || name == "unsubscribe" || name == "watch")
    return Status(Code::kNotFound, "no method '" + std::string(name) + "' here");
  Client transient;  // no connection: nothing of it outlives the call
  Result<Json> result = (this->*(method->second))(transient, params.is_null() ? Json::object() : params);
  if (stop_after_reply_) {
    stop_after_reply_ = false;
    if (after_reply) *after_reply = request_stop_;
  }
  return result;
}

void ControlService::onMessage(ControlConnection& conn, const Json& message) {
  Client& client = clients_[conn.id()];
  client.conn = &conn;
  // A method may drop this very client (a broadcast to a slow watcher): onClosed then leaves
  // the entry for us to erase at the end, so `client` stays valid meanwhile.
  in_message_ = conn.id();
  Json reply;
  if (message.is_array()) {
    if (message.empty()) reply = rpc::error(nullptr, rpc::kInvalidRequest, "empty batch");
    else {
      reply = Json::array();
      in_batch_ = true;
      for (const auto& request : message) {
        Json one = handleOne(client, request);
        if (!one.is_null()) reply.push_back(std::move(one));
      }
      in_batch_ = false;
      if (reply.empty()) reply = Json();  // a batch of notifications gets no reply
    }
  } else {
    reply = handleOne(client, message);
  }
  std::function<void()> after;
  if (stop_after_reply_) {
    stop_after_reply_ = false;
    after = request_stop_;
  }
  if (!reply.is_null()) conn.send(reply, after);
  else if (after) after();
  in_message_ = 0;
  if (conn.closed()) clients_.erase(conn.id());
}

void ControlService::onClosed(ControlConnection& conn) {
  if (conn.id() == in_message_) return;  // onMessage erases it when it is done
  clients_.erase(conn.id());
}

Json ControlService::handleOne(Client& client, const Json& request) {
  if (!request.is_object() || request.value("jsonrpc", Json()) != "2.0" || !request.contains("method") ||
      !request["method"].is_string())
    return rpc::error(request.is_object() ? request.value("id", Json()) : Json(), rpc::kInvalidRequest,
                      "not a JSON-RPC 2.0 request");
  const bool notification = !request.contains("id");
  Json id = notification ? Json() : request["id"];
  if (!id.is_null() && !id.is_string() && !id.is_number())
    return rpc::error(nullptr, rpc::kInvalidRequest, "id must be a string, a number or null");
  Json params = request.value("params", Json::object());
  if (!params.is_object()) return rpc::error(id, rpc::kInvalidParams, "params must be an object");
  if (request["method"] == "ping") return notification ? Json() : startPing(client, id, params);
  auto method = kMethods.find(request["method"].get<std::string>());
  if (method == kMethods.end())
    return notification ? Json() : rpc::error(id, rpc::kMethodNotFound, "unknown method '" + request["method"].get<std::string>() + "'");
  Result<Json> result = (this->*(method->second))(client, params);
  if (notification) return Json();
  if (!result) return rpc::error(id, rpc::codeFor(result.status()), result.status().message());
  return rpc::result(id, std::move(result.value()));
}

Result<Json> ControlService::status(Client&, const Json&) {
  const LocalDevice& local = core_.local();
  return Json{{"device", local.id.toString()},
              {"name", local.name},
              {"listen", core_.listenAddress()},
              {"listen_addresses", core_.listenAddresses()},
              {"mesh_tag", info_.mesh_tag},
              {"peers", core_.peers().size()},
              {"stores", stores_.storeCount()},
              {"contract_mismatches", stores_.contractMismatches()},
              {"state_dir", info_.state_dir},
              {"mdns", info_.mdns},
              {"interfaces", info_.interfaces},
              {"allow_list", allow_list_on_},
              {"watchers", watcherCount()},
              {"protocol_version", kProtocolVersion},
              {"pid", static_cast<int64_t>(::getpid())},
              {"started_at", info_.started_at_ms},
              {"http", info_.http.empty() ? Json() : Json(info_.http)},
              {"uptime_s", (core_.env().wallMillis() - info_.started_at_ms) / 1000}};
}

Result<Json> ControlService::storesList(Client&, const Json&) { return Json{{"stores", stores_.list()}}; }

Result<Json> ControlService::get(Client&, const Json& params) {
  auto store = stringParam(params, "store");
  if (!store) return store.status();
  std::optional<DeviceId> device;
  if (params.contains("device")) {
    auto id = deviceParam(params, "device");
    if (!id) return id.status();
    device = *id;
  }
  return stores_.get(*store, device);
}

Result<Json> ControlService::set(Client&, const Json& params) {
  auto store = stringParam(params, "store");
  if (!store) return store.status();
  if (!params.contains("value")) return invalidArgument("missing parameter 'value' (any JSON value)");
  auto version = stores_.set(*store, dumpJson(params["value"]));
  if (!version) return version.status();
  return Json{{"store", *store}, {"version", *version}};
}

Result<Json> ControlService::remove(Client&, const Json& params) {
  auto store = stringParam(params, "store");
  if (!store) return store.status();
  return stores_.remove(*store);
}

Result<Json> ControlService::publish(Client&, const Json& params) {
  auto ns = stringParam(params, "ns");
  if (!ns) return ns.status();
  auto data = bytesParam(params);
  if (!data) return data.status();
  if (data->size() > kMaxPayloadSize) return tooLarge("payload larger than " + std::to_string(kMaxPayloadSize) + " bytes");
  auto sent = core_.bus().publish(*ns, *data);
  if (!sent) return sent.status();
  Json reached = Json::array(), failed = Json::array();
  for (const auto& id : sent->reached) reached.push_back(id.toString());
  for (const auto& [id, st] : sent->failed) failed.push_back({{"device", id.toString()}, {"error", st.toString()}});
  return Json{{"reached", std::move(reached)}, {"failed", std::move(failed)}};
}

Result<Json> ControlService::subscribe(Client& client, const Json& params) {
  auto ns = stringParam(params, "ns");
  if (!ns) return ns.status();
  if (client.subscriptions.count(*ns)) return Json{{"subscribed", *ns}};
  if (client.subscriptions.size() >= kMaxSubscriptionsPerClient) return Status(Code::kBusy, "too many subscriptions");
  ControlConnection* conn = client.conn;
  auto sub = core_.bus().subscribe(*ns, [conn](const BusMessageEvent& m) {
    // The subscription dies with the client entry (onClosed), before the connection does.
    Json params{{"ns", std::string(m.ns)}, {"from", m.from.toString()}};
    putBytes(params, m.payload);
    conn->send(rpc::notification("message", std::move(params)));
  });
  if (!sub) return sub.status();
  client.subscriptions.emplace(*ns, std::move(sub.value()));
  return Json{{"subscribed", *ns}};
}

Result<Json> ControlService::unsubscribe(Client& client, const Json& params) {
  auto ns = stringParam(params, "ns");
  if (!ns) return ns.status();
  bool was = client.subscriptions.erase(*ns) > 0;
  return Json{{"unsubscribed", was}};
}

Result<Json> ControlService::watch(Client& client, const Json& params) {
  Json out{{"watching", true}};
  if (!(params.contains("snapshot") && params["snapshot"] == true)) {
    client.watching = true;
    return out;
  }
  // Taken on the loop thread in the same turn that turned watching on, and written before any
  // event: every change after it arrives as an event, none before it does. Slices are one flat
  // list (each with its "store") so the reply nests no deeper than a `get` reply.
  Json slices = Json::array();
  size_t bytes = 0;
  for (const auto& s : stores_.list()) {
    auto got = stores_.get(s["store"].get<std::string>(), std::nullopt);
    if (!got) continue;
    for (auto& slice : (*got)["slices"]) {
      bytes += slice.contains("value") ? dumpJson(slice["value"]).size() : 0;
      if (bytes > kMaxWatchSnapshotBytes)
        return tooLarge("the snapshot is over " + std::to_string(kMaxWatchSnapshotBytes >> 20) +
                        " MiB of values: watch without it and `get` the stores one by one");
      slice["store"] = s["store"];
      slices.push_back(std::move(slice));
    }
  }
  Client none;
  auto peers = this->peers(none, Json::object());
  out["snapshot"] = true;
  out["at"] = isoTime(core_.env().wallMillis());
  out["peers"] = peers ? (*peers)["peers"] : Json::array();
  out["slices"] = std::move(slices);
  client.watching = true;
  return out;
}

Result<Json> ControlService::down(Client&, const Json&) {
  stop_after_reply_ = true;
  return Json{{"stopping", true}};
}

Result<Json> ControlService::allow(Client&, const Json& params) {
  auto id = deviceParam(params, "device");
  if (!id) return id.status();
  core_.allow(*id);
  allow_list_on_ = true;
  allowed_.insert(*id);
  return saveAllowList();
}

Result<Json> ControlService::revoke(Client&, const Json& params) {
  auto id = deviceParam(params, "device");
  if (!id) return id.status();
  if (!allow_list_on_) {
    // As the core does: from "anyone with the invite" to the devices connected now.
    for (const auto& p : core_.peers()) allowed_.insert(p.id);
    allow_list_on_ = true;
  }
  allowed_.erase(*id);
  core_.revoke(*id);
  return saveAllowList();
}

Result<Json> ControlService::allowList(Client&, const Json&) {
  Json devices = Json::array();
  for (const auto& id : allowed_) devices.push_back(id.toString());
  return Json{{"enabled", allow_list_on_}, {"devices", std::move(devices)}};
}

Result<Json> ControlService::saveAllowList() {
  Status st = meshslice::saveAllowList(info_.state_dir, allowed_);
  if (!st.isOk()) return st;
  Client none;
  return allowList(none, Json());
}

void ControlService::broadcast(const Json& unstamped) {
  Json event = unstamped;
  event["at"] = isoTime(core_.env().wallMillis());
  if (event_listener_) event_listener_(event);
  Json message = rpc::notification("event", event);
  std::vector<ControlConnection*> targets;
  for (auto& [id, c] : clients_)
    if (c.watching) targets.push_back(c.conn);
  // send() may drop a slow client, which erases it from clients_: iterate over a copy.
  for (ControlConnection* conn : targets) conn->send(message);
}

size_t ControlService::watcherCount() const {
  size_t n = 0;
  for (const auto& [id, c] : clients_) n += c.watching ? 1 : 0;
  return n;
}

void ControlService::onPeerJoined(const PeerJoined& e) {
  names_[e.peer.id] = e.peer.name;
  Json event = peerInfoJson(e.peer);
  event["type"] = "peer_joined";
  broadcast(event);
}

void ControlService::onPeerUpdated(const PeerUpdated& e) {
  names_[e.peer.id] = e.peer.name;
  Json event = peerInfoJson(e.peer);
  event["type"] = "peer_updated";
  broadcast(event);
}

void ControlService::onPeerLeft(const PeerLeft& e) {
  // The core has forgotten the peer by now: its name comes from the events before.
  auto name = names_.extract(e.id);
  broadcast(Json{{"type", "peer_left"}, {"device", e.id.toString()}, {"name", name ? name.mapped() : std::string()},
                 {"reason", leaveReasonName(e.reason)}});
}

}  // namespace meshslice
