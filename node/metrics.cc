#include "node/metrics.h"

#include <charconv>

#include "mesh/mesh_core.h"
#include "mesh/protocol_constants.h"
#include "node/control_server.h"
#include "node/http_server.h"
#include "node/store_hub.h"

#ifndef MESHSLICE_VERSION
#error "the build defines MESHSLICE_VERSION (the project version)"
#endif

namespace meshslice {

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::begin(std::string_view name, const MetricLabels& labels) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      out_ += escapeLabelValue(labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, uint64_t value) {
  begin(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const MetricLabels& labels, double value) {
  begin(name, labels);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, ec == std::errc() ? end : buf);
  out_ += '\n';
}

namespace {

double seconds(Micros us) { return static_cast<double>(us) / 1e6; }

void meshMetrics(PrometheusText& p, MeshCore& core) {
  const MeshStats& s = core.stats();
  std::vector<PeerInfo> peers = core.peers();
  uint64_t linked = 0, queued = 0;
  for (const auto& peer : peers) {
    auto link = core.linkState(peer.id);
    if (link && link->linked) ++linked;
    if (link) queued += link->queued_bytes;
  }
  p.family("meshslice_peers", "gauge", "Known peers by link state (reconnecting: the link dropped, the grace period runs).");
  p.sample("meshslice_peers", {{"state", "linked"}}, linked);
  p.sample("meshslice_peers", {{"state", "reconnecting"}}, peers.size() - linked);
  p.family("meshslice_links_total", "counter", "Links accepted and dialed.");
  p.sample("meshslice_links_total", {{"direction", "accepted"}}, s.links_accepted);
  p.sample("meshslice_links_total", {{"direction", "dialed"}}, s.links_dialed);
  p.family("meshslice_handshakes_total", "counter", "Link handshakes: completed (valid Hello) or failed (closed before).");
  p.sample("meshslice_handshakes_total", {{"result", "completed"}}, s.handshakes_completed);
  p.sample("meshslice_handshakes_total", {{"result", "failed"}}, s.handshakes_failed);
  p.family("meshslice_link_errors_total", "counter", "Links this node closed, by reason (docs/PROTOCOL.md section 4).");
  for (size_t i = 0; i < kLinkErrorCount; ++i)
    p.sample("meshslice_link_errors_total", {{"reason", linkErrorName(static_cast<LinkError>(i))}}, s.link_errors[i]);
  p.family("meshslice_protocol_errors_total", "counter", "Links closed because the peer broke the protocol.");
  p.sample("meshslice_protocol_errors_total", s.protocol_errors);
  p.family("meshslice_links_refused_total", "counter", "Links refused or closed before use: pending-handshake limit, duplicates.");
  p.sample("meshslice_links_refused_total", {{"reason", "pending-limit"}}, s.links_refused_pending_limit);
  p.sample("meshslice_links_refused_total", {{"reason", "duplicate"}}, s.duplicate_links_closed);
  p.family("meshslice_messages_rate_limited_total", "counter", "Envelopes dropped by a peer's rate limit.");
  p.sample("meshslice_messages_rate_limited_total", s.messages_rate_limited);
  p.family("meshslice_peers_disconnected_flooding_total", "counter", "Links closed for flooding past the rate limit.");
  p.sample("meshslice_peers_disconnected_flooding_total", s.peers_disconnected_flooding);
  TrafficTotals t = core.traffic();
  p.family("meshslice_bytes_total", "counter", "Encrypted transport frame bytes over every link.");
  p.sample("meshslice_bytes_total", {{"direction", "sent"}}, t.bytes_sent);
  p.sample("meshslice_bytes_total", {{"direction", "received"}}, t.bytes_received);
  p.family("meshslice_peer_evictions_total", "counter", "Peers evicted, by reason.");
  for (size_t i = 0; i < kLeaveReasonCount; ++i)
    p.sample("meshslice_peer_evictions_total", {{"reason", leaveReasonName(static_cast<LeaveReason>(i))}}, s.peers_left[i]);
  p.family("meshslice_send_queue_bytes", "gauge", "Bytes waiting to be sent, over every peer.");
  p.sample("meshslice_send_queue_bytes", queued);
  const BusStats& bus = core.bus().stats();
  p.family("meshslice_bus_messages_total", "counter", "Bus messages and requests received: delivered, or for no subscriber.");
  p.sample("meshslice_bus_messages_total", {{"result", "delivered"}}, bus.delivered);
  p.sample("meshslice_bus_messages_total", {{"result", "unhandled"}}, bus.unhandled);

  const MeshOptions& o = core.options();
  p.family("meshslice_liveness_timeout_seconds", "gauge", "Silence after which a peer is evicted.");
  p.sample("meshslice_liveness_timeout_seconds", {}, seconds(o.liveness_timeout));
  p.family("meshslice_heartbeat_interval_seconds", "gauge", "Idle time after which a heartbeat is sent.");
  p.sample("meshslice_heartbeat_interval_seconds", {}, seconds(o.heartbeat_interval));
  p.family("meshslice_reconnect_grace_seconds", "gauge", "How long a peer whose link dropped is kept for a new link.");
  p.sample("meshslice_reconnect_grace_seconds", {}, seconds(o.reconnect_grace));

  p.family("meshslice_peer_info", "gauge", "One series per known peer: its name and link address.");
  for (const auto& peer : peers)
    p.sample("meshslice_peer_info", {{"device", peer.id.toString()}, {"name", peer.name}, {"address", peer.address}}, uint64_t{1});
  p.family("meshslice_peer_silence_seconds", "gauge", "Time since a linked peer was last heard.");
  for (const auto& peer : peers)
    if (auto link = core.linkState(peer.id); link && link->linked)
      p.sample("meshslice_peer_silence_seconds", {{"device", peer.id.toString()}}, seconds(link->silent_for));
  p.family("meshslice_peer_rtt_seconds", "gauge", "Smoothed TCP round-trip time of a linked peer.");
  for (const auto& peer : peers)
    if (auto link = core.linkState(peer.id); link && link->rtt_us >= 0)
      p.sample("meshslice_peer_rtt_seconds", {{"device", peer.id.toString()}}, seconds(link->rtt_us));
  p.family("meshslice_peer_send_queue_bytes", "gauge", "Bytes waiting to be sent to a peer.");
  for (const auto& peer : peers)
    if (auto link = core.linkState(peer.id))
      p.sample("meshslice_peer_send_queue_bytes", {{"device", peer.id.toString()}}, uint64_t{link->queued_bytes});
}

void storeMetrics(PrometheusText& p, const StoreHub& stores) {
  const SyncStats& s = stores.syncStats();
  p.family("meshslice_stores", "gauge", "Open stores.");
  p.sample("meshslice_stores", uint64_t{stores.storeCount()});
  p.family("meshslice_slices_received_total", "counter",
           "Remote slices received: applied, stale (not newer), rejected (undecodable), spoofed (not from their owner), "
           "unknown store, implausible version (beyond our clock's bound).");
  p.sample("meshslice_slices_received_total", {{"result", "applied"}}, s.slices_applied);
  p.sample("meshslice_slices_received_total", {{"result", "stale"}}, s.slices_stale);
  p.sample("meshslice_slices_received_total", {{"result", "rejected"}}, s.slices_rejected);
  p.sample("meshslice_slices_received_total", {{"result", "spoofed"}}, s.slices_spoofed);
  p.sample("meshslice_slices_received_total", {{"result", "unknown-store"}}, s.slices_unknown_store);
  p.sample("meshslice_slices_received_total", {{"result", "implausible-version"}}, s.versions_implausible);
  p.family("meshslice_slices_sent_total", "counter", "Slices sent to peers.");
  p.sample("meshslice_slices_sent_total", s.slices_sent);
  p.family("meshslice_sync_messages_total", "counter", "Store sync traffic by kind.");
  p.sample("meshslice_sync_messages_total", {{"kind", "request-sent"}}, s.requests_sent);
  p.sample("meshslice_sync_messages_total", {{"kind", "request-received"}}, s.requests_received);
  p.sample("meshslice_sync_messages_total", {{"kind", "digest-sent"}}, s.digests_sent);
  p.sample("meshslice_sync_messages_total", {{"kind", "digest-received"}}, s.digests_received);
  p.sample("meshslice_sync_messages_total", {{"kind", "malformed"}}, s.malformed);
  p.sample("meshslice_sync_messages_total", {{"kind", "from-unlinked"}}, s.from_unlinked);
  p.family("meshslice_sync_repairs_total", "counter",
           "Local versions raised above a peer's record (done), or claims refused as beyond the repair bound.");
  p.sample("meshslice_sync_repairs_total", {{"result", "done"}}, s.repairs);
  p.sample("meshslice_sync_repairs_total", {{"result", "refused"}}, s.repairs_refused);
  p.family("meshslice_sync_send_errors_total", "counter", "Sync messages that could not be queued.");
  p.sample("meshslice_sync_send_errors_total", s.send_errors);
}

void httpMetrics(PrometheusText& p, const HttpServer& http) {
  const HttpServerStats& s = http.stats();
  p.family("meshslice_http_connections", "gauge", "Open HTTP connections (WebSockets included).");
  p.sample("meshslice_http_connections", uint64_t{http.connectionCount()});
  p.family("meshslice_http_websockets", "gauge", "Open WebSocket event streams.");
  p.sample("meshslice_http_websockets", uint64_t{http.webSocketCount()});
  p.family("meshslice_http_queue_bytes", "gauge", "Unsent HTTP and WebSocket output.");
  p.sample("meshslice_http_queue_bytes", uint64_t{http.queuedBytes()});
  p.family("meshslice_http_requests_total", "counter", "HTTP requests parsed.");
  p.sample("meshslice_http_requests_total", s.requests);
  p.family("meshslice_http_responses_total", "counter", "HTTP responses by status code.");
  for (const auto& [code, n] : s.responses) p.sample("meshslice_http_responses_total", {{"code", std::to_string(code)}}, n);
  p.family("meshslice_http_refused_total", "counter", "Requests and connections refused, by reason (docs/HTTP.md).");
  for (size_t i = 0; i < kHttpRefusalCount; ++i)
    p.sample("meshslice_http_refused_total", {{"reason", httpRefusalName(static_cast<HttpRefusal>(i))}}, s.refused[i]);
  p.family("meshslice_http_ws_messages_total", "counter", "WebSocket messages.");
  p.sample("meshslice_http_ws_messages_total", {{"direction", "sent"}}, s.ws_messages_sent);
  p.sample("meshslice_http_ws_messages_total", {{"direction", "received"}}, s.ws_messages_received);
}

}  // namespace

std::string renderDaemonMetrics(const MetricsSources& src) {
  PrometheusText p;
  const LocalDevice& local = src.core.local();
  p.family("meshslice_info", "gauge", "This device and build.");
  p.sample("meshslice_info",
           {{"device", local.id.toString()}, {"name", local.name}, {"version", MESHSLICE_VERSION},
            {"protocol", std::to_string(kProtocolVersion)}},
           uint64_t{1});
  p.family("meshslice_uptime_seconds", "gauge", "Time since the daemon started.");
  p.sample("meshslice_uptime_seconds", {}, static_cast<double>(src.uptime_ms) / 1000.0);
  meshMetrics(p, src.core);
  storeMetrics(p, src.stores);
  p.family("meshslice_control_clients", "gauge", "Connections to the control socket.");
  p.sample("meshslice_control_clients", uint64_t{src.control.connectionCount()});
  if (src.http) httpMetrics(p, *src.http);
  return p.text();
}

}  // namespace meshslice
