#include "mesh/static_discovery.h"

#include <algorithm>

#include "base/backoff.h"
#include "base/log.h"

namespace meshslice {
namespace {

constexpr size_t kMaxHostNameLength = 253;  // RFC 1035, presentation form without the root

bool hostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

struct StaticDiscovery::Entry {
  explicit Entry(const StaticDiscoveryOptions& o) : backoff(o.retry_initial, o.retry_max) {}
  std::string text;  // as configured
  HostPort host_port;
  bool numeric = false;
  std::unique_ptr<HostLookup> lookup;
  std::unique_ptr<Timer> timer;  // the next lookup: a retry or a periodic re-resolution
  Backoff backoff;
  bool reported = false;  // a `found` is standing
  std::vector<std::string> endpoints;  // what that `found` said
  std::string last_error;
};

Result<HostPort> StaticDiscovery::parseEntry(std::string_view entry) {
  auto hp = splitHostPort(entry);
  if (!hp) return hp.status();
  if (parseSocketAddress(entry)) return hp;  // numeric IPv4, or bracketed numeric IPv6
  const std::string& host = hp->host;
  if (entry.front() == '[')
    return invalidArgument("bad address '" + std::string(entry) + "': [..] must hold a numeric IPv6 address");
  if (host.size() > kMaxHostNameLength || !std::all_of(host.begin(), host.end(), hostNameChar) ||
      host.front() == '.' || host.front() == '-')
    return invalidArgument("bad address '" + std::string(entry) + "': not a host name or numeric address");
  return hp;
}

std::string StaticDiscovery::keyOf(const std::string& entry) { return "static:" + entry; }

StaticDiscovery::StaticDiscovery(Env& env, std::vector<std::string> entries, StaticDiscoveryOptions options)
    : env_(env), texts_(std::move(entries)), options_(options) {}

StaticDiscovery::~StaticDiscovery() { stop(); }

Status StaticDiscovery::start(Events events) {
  assert(!running_ && "StaticDiscovery::start called twice");
  if (texts_.size() > kMaxEntries)
    return invalidArgument("too many static peers: " + std::to_string(texts_.size()) + " (at most " +
                           std::to_string(kMaxEntries) + ")");
  std::vector<std::unique_ptr<Entry>> entries;
  for (const auto& text : texts_) {
    auto hp = parseEntry(text);
    if (!hp) return invalidArgument("static peer: " + hp.status().message());
    auto e = std::make_unique<Entry>(options_);
    e->text = text;
    e->host_port = hp.value();
    e->numeric = parseSocketAddress(text).isOk();
    entries.push_back(std::move(e));
  }
  entries_ = std::move(entries);
  events_ = std::move(events);
  running_ = true;
  token_ = std::make_shared<int>(0);
  for (auto& e : entries_) {
    if (e->numeric) {
      e->reported = true;
      e->endpoints = {e->text};
      report(*e, true);
      continue;
    }
    Entry* raw = e.get();
    e->timer = env_.newTimer([this, raw] { lookup(*raw); });
    lookup(*e);
  }
  return Status::ok();
}

void StaticDiscovery::stop() {
  if (!running_) return;
  running_ = false;
  entries_.clear();  // cancels lookups and timers
  token_.reset();
  events_ = {};
}

size_t StaticDiscovery::lookupsInFlight() const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(),
                                           [](const auto& e) { return e->lookup != nullptr; }));
}

void StaticDiscovery::lookup(Entry& e) {
  if (!running_ || e.lookup) return;  // one lookup per entry at a time
  e.lookup = env_.lookupHost(e.host_port.host, [this, &e](Result<std::vector<std::string>> answer) {
    onLookup(e, std::move(answer));
  });
}

void StaticDiscovery::onLookup(Entry& e, Result<std::vector<std::string>> answer) {
  e.lookup.reset();
  if (!running_) return;
  if (answer.isOk()) {
    std::vector<std::string> endpoints;
    for (const auto& address : answer.value()) {
      if (endpoints.size() == kMaxEndpointsPerEntry) break;
      std::string ep = joinHostPort(address, e.host_port.port);
      if (std::find(endpoints.begin(), endpoints.end(), ep) == endpoints.end()) endpoints.push_back(ep);
    }
    e.backoff.reset();
    e.last_error.clear();
    if (!e.reported || endpoints != e.endpoints) {
      MS_LOG(kInfo, "static") << e.text << " resolved to " << endpoints.size() << " address(es), first "
                              << endpoints.front();
      e.endpoints = std::move(endpoints);
      e.reported = true;
      report(e, true);
    }
    e.timer->start(options_.reresolve_interval);
    return;
  }
  const Status& st = answer.status();
  const Micros retry_in = e.backoff.grow();
  if (st.message() != e.last_error) {
    MS_LOG(kWarn, "static") << "cannot resolve " << e.text << ": " << st.toString() << " (retrying)";
  } else {
    MS_LOG(kDebug, "static") << "cannot resolve " << e.text << ": " << st.toString();
  }
  e.last_error = st.message();
  // A transient failure keeps the last good answer; a name that no longer exists is lost.
  if (st.code() == Code::kNotFound && e.reported) {
    e.reported = false;
    e.endpoints.clear();
    report(e, false);
  }
  e.timer->start(retry_in);
}

void StaticDiscovery::report(Entry& e, bool found) {
  DiscoveredPeer peer;
  peer.key = keyOf(e.text);
  peer.endpoints = e.endpoints;
  env_.post([this, alive = std::weak_ptr<int>(token_), found, peer = std::move(peer)] {
    if (!alive.lock() || !running_) return;
    // Copies: a handler may stop() us, which clears events_.
    if (found && events_.found) std::function<void(const DiscoveredPeer&)>(events_.found)(peer);
    if (!found && events_.lost) std::function<void(const std::string&)>(events_.lost)(peer.key);
  });
}

}  // namespace meshslice
