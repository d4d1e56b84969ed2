// ControlService's diagnostics (docs/CONTROL.md "peers", "ping"): why peers do or do not see
// each other. Kept apart from control_service.cc, which holds the everyday methods.
#include <chrono>

#include "mesh/protocol_constants.h"
#include "node/control_service.h"

namespace meshslice {
namespace {

// The namespace a ping asks on. Nobody serves it: every peer (of any version) answers a request
// for an unserved namespace with a no-handler reply, and that reply is the pong.
constexpr char kPingNamespace[] = "ms.ping";
constexpr int64_t kDefaultPingTimeoutMs = 2000;
constexpr int64_t kMaxPingTimeoutMs = 30000;
// A device given by prefix must be at least this long to be taken as one.
constexpr size_t kMinDevicePrefix = 4;

Json msOrNull(Micros us) { return us < 0 ? Json() : Json(us / kMillis); }

Json endpointJson(const MeshCore& core, const DialerInfo& d, Micros now) {
  return Json{{"endpoint", d.endpoint},
              {"state", dialStateName(d.state)},
              {"device", d.device.isZero() ? Json() : Json(d.device.toString())},
              {"configured", core.configuredEndpoint(d.endpoint)},
              {"attempts", d.attempts},
              {"failures", d.failures},
              {"last_error", d.last_error.isOk() ? Json() : Json(d.last_error.message())},
              {"last_error_ms_ago", d.last_error.isOk() ? Json() : msOrNull(now - d.last_error_at)},
              {"next_attempt_ms", d.state == DialState::kWaiting ? Json(d.next_attempt_in / kMillis) : Json()}};
}

Json inboundJson(const InboundFailure& f, Micros now) {
  return Json{{"host", f.host},
              {"device", f.device.isZero() ? Json() : Json(f.device.toString())},
              {"last_error", f.last_error},
              {"count", f.count},
              {"last_error_ms_ago", msOrNull(now - f.last_at)}};
}

}  // namespace

ControlService::~ControlService() { *alive_ = false; }

Result<Json> ControlService::peers(Client&, const Json& params) {
  Json list = Json::array();
  for (const auto& p : core_.peers()) {
    Json peer = peerInfoJson(p);
    auto link = core_.linkState(p.id);
    peer["linked"] = link && link->linked;
    peer["silent_ms"] = link && link->linked ? Json(link->silent_for / kMillis) : Json();
    peer["rtt_ms"] = link && link->rtt_us >= 0 ? Json(static_cast<double>(link->rtt_us) / 1000.0) : Json();
    peer["queued_bytes"] = link ? link->queued_bytes : 0;
    const std::string listen = core_.peerListenAddress(p.id);
    peer["listen_address"] = listen.empty() ? Json() : Json(listen);
    list.push_back(std::move(peer));
  }
  Json out{{"peers", std::move(list)}};
  if (!params.is_object() || !params.contains("all") || params["all"] != true) return out;
  const Micros now = core_.now();
  Json endpoints = Json::array(), inbound = Json::array();
  for (const auto& d : core_.dialers()) endpoints.push_back(endpointJson(core_, d, now));
  for (const auto& f : core_.inboundFailures()) inbound.push_back(inboundJson(f, now));
  out["endpoints"] = std::move(endpoints);
  out["inbound_failures"] = std::move(inbound);
  return out;
}

Result<DeviceId> ControlService::resolvePeer(const std::string& text) const {
  if (auto id = DeviceId::parse(text)) return *id;
  std::vector<PeerInfo> matches;
  for (const auto& p : core_.peers()) {
    const std::string id = p.id.toString();
    if (p.name == text || (text.size() >= kMinDevicePrefix && id.compare(0, text.size(), text) == 0))
      matches.push_back(p);
  }
  if (matches.size() == 1) return matches.front().id;
  if (matches.empty()) return Status(Code::kNotFound, "no peer named '" + text + "' (and not a device ID)");
  return invalidArgument("'" + text + "' matches " + std::to_string(matches.size()) + " peers: give the device ID");
}

Json ControlService::startPing(Client& client, const Json& id, const Json& params) {
  auto fail = [&](const Status& st) { return rpc::error(id, rpc::codeFor(st), st.message()); };
  if (in_batch_) return fail(invalidArgument("ping cannot be part of a batch"));
  auto device = params.contains("device") && params["device"].is_string()
                    ? resolvePeer(params["device"].get<std::string>())
                    : Result<DeviceId>(invalidArgument("missing string parameter 'device'"));
  if (!device) return fail(device.status());
  int64_t timeout_ms = kDefaultPingTimeoutMs;
  if (params.contains("timeout_ms")) {
    if (!params["timeout_ms"].is_number_integer() || params["timeout_ms"].get<int64_t>() < 1 ||
        params["timeout_ms"].get<int64_t>() > kMaxPingTimeoutMs)
      return fail(invalidArgument("timeout_ms must be an integer from 1 to " + std::to_string(kMaxPingTimeoutMs)));
    timeout_ms = params["timeout_ms"].get<int64_t>();
  }
  if (!core_.isConnected(*device)) return fail(Status(Code::kClosed, "peer " + device->toString() + " is not connected"));
  std::string name;
  for (const auto& p : core_.peers())
    if (p.id == *device) name = p.name;
  const auto sent_at = std::chrono::steady_clock::now();
  const uint64_t conn = client.conn ? client.conn->id() : 0;
  Status st = core_.bus().requestReserved(
      *device, kPingNamespace, {}, timeout_ms * kMillis,
      [this, alive = alive_, conn, id, dev = *device, name, sent_at](Result<Bytes> reply) {
        if (!*alive) return;
        auto it = clients_.find(conn);
        if (it == clients_.end() || !it->second.conn || it->second.conn->closed()) return;
        // Any reply is a pong; only a timeout or a lost link is not.
        const bool answered = reply || reply.status().code() == Code::kNotFound;
        if (!answered) {
          it->second.conn->send(rpc::error(id, rpc::codeFor(reply.status()), "no reply from " + dev.toString() + ": " +
                                                                               reply.status().message()));
          return;
        }
        const double rtt_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at).count();
        it->second.conn->send(rpc::result(id, Json{{"device", dev.toString()}, {"name", name}, {"rtt_ms", rtt_ms}}));
      });
  if (!st.isOk()) return fail(st);
  return Json();  // answered when the reply comes
}

}  // namespace meshslice
