#include "mesh/dialer_set.h"

#include <utility>

#include "base/log.h"
#include "mesh/link_diagnosis.h"

namespace meshslice {

const char* dialStateName(DialState state) {
  switch (state) {
    case DialState::kConnecting: return "connecting";
    case DialState::kLinked: return "linked";
    case DialState::kWaiting: return "backing-off";
    case DialState::kIdle: return "idle";
  }
  return "?";
}

namespace {
// A failed connect as `peers --all` shows it: in words, with the transport's reason.
Status connectFailure(const Status& st) {
  LinkFailureFacts facts;
  facts.reason = st;
  facts.connect_failed = true;
  facts.initiator = true;
  return Status(st.code(), describeLinkFailure(facts));
}
}  // namespace

DialerSet::DialerSet(Env& env, Transport& transport, DialerOptions options, IsLinked linked,
                     Connected connected, Failed failed)
    : env_(env), transport_(transport), options_(options), linked_(std::move(linked)),
      connected_(std::move(connected)), failed_(std::move(failed)) {}

DialerSet::~DialerSet() { *alive_ = false; }

DialerSet::Dialer& DialerSet::ensure(const std::string& endpoint) {
  auto [it, fresh] =
      dialers_.try_emplace(endpoint, endpoint, Backoff(options_.backoff_initial, options_.backoff_max));
  Dialer& d = it->second;
  if (!fresh) return d;
  d.timer = env_.newTimer([this, endpoint] {
    if (Dialer* found = find(endpoint)) dial(*found);
  });
  dial(d);
  return d;
}

DialerSet::Dialer* DialerSet::find(const std::string& endpoint) {
  auto it = dialers_.find(endpoint);
  return it == dialers_.end() ? nullptr : &it->second;
}

const DialerSet::Dialer* DialerSet::find(const std::string& endpoint) const {
  auto it = dialers_.find(endpoint);
  return it == dialers_.end() ? nullptr : &it->second;
}

void DialerSet::erase(const std::string& endpoint) { dialers_.erase(endpoint); }

void DialerSet::clear() { dialers_.clear(); }

void DialerSet::schedule(Dialer& d, Micros delay) {
  d.next_attempt_at = env_.now() + delay;
  d.timer->start(delay);
}

void DialerSet::dial(Dialer& d) {
  if (d.connecting) return;
  if (!d.device.isZero() && linked_(d.device)) return;  // asked again when that link drops
  d.connecting = true;
  ++d.attempts;
  ++total_attempts_;
  std::string endpoint = d.endpoint;
  Status st = transport_.connect(endpoint, [this, alive = alive_, endpoint](Result<std::unique_ptr<Link>> r) {
    if (*alive) onResult(endpoint, std::move(r));
  });
  if (st.isOk()) return;
  d.connecting = false;
  noteFailure(endpoint, connectFailure(st));
  if (st.code() == Code::kInvalidArgument) {  // not an address this transport can ever dial
    MS_LOG(kWarn, "mesh") << "cannot dial " << endpoint << ": " << st.toString();
    return;
  }
  // Failed at once (no route while an interface is gone, ...): retry like a refused dial.
  MS_LOG(kDebug, "mesh") << "dial " << endpoint << ": " << st.toString();
  retryLater(d);
}

void DialerSet::onResult(const std::string& endpoint, Result<std::unique_ptr<Link>> result) {
  if (Dialer* d = find(endpoint)) d->connecting = false;
  if (result) {
    connected_(endpoint, std::move(result).value());
    return;
  }
  MS_LOG(kDebug, "mesh") << "dial " << endpoint << ": " << result.status().toString();
  noteFailure(endpoint, connectFailure(result.status()));
  failed_(endpoint, result.status());
  if (Dialer* d = find(endpoint)) retryLater(*d);  // the callee may have erased it
}

void DialerSet::dialNow(Dialer& d) {
  if (d.connecting) return;
  d.backoff.reset();
  d.timer->stop();
  dial(d);
}

void DialerSet::retryLater(Dialer& d) { schedule(d, d.backoff.growJittered(env_)); }

void DialerSet::retryAfterClose(Dialer& d, bool stable) {
  if (stable) {
    d.backoff.reset();
    schedule(d, 0);
  } else {
    retryLater(d);
  }
}

void DialerSet::retryNow(Dialer& d) {
  ++d.quick_retries;
  schedule(d, 0);
}

void DialerSet::noteEstablished(const std::string& endpoint, const DeviceId& device) {
  Dialer* d = find(endpoint);
  if (!d) return;
  d->device = device;
  d->quick_retries = 0;
  d->failures = 0;
}

void DialerSet::noteFailure(const std::string& endpoint, const Status& reason) {
  Dialer* d = find(endpoint);
  if (!d) return;
  ++d->failures;
  d->last_error = reason;
  d->last_error_at = env_.now();
}

std::string DialerSet::endpointOf(const DeviceId& device) const {
  std::string out;
  for (const auto& [ep, d] : dialers_)
    if (d.device == device) out = ep;
  return out;
}

std::vector<DialerInfo> DialerSet::snapshot() const {
  std::vector<DialerInfo> out;
  const Micros now = env_.now();
  for (const auto& [ep, d] : dialers_) {
    DialerInfo info;
    info.endpoint = ep;
    info.device = d.device;
    if (d.connecting) info.state = DialState::kConnecting;
    else if (!d.device.isZero() && linked_(d.device)) info.state = DialState::kLinked;
    else if (d.timer->armed()) info.state = DialState::kWaiting;
    else info.state = DialState::kIdle;
    if (info.state == DialState::kWaiting) info.next_attempt_in = std::max<Micros>(0, d.next_attempt_at - now);
    info.last_error = d.last_error;
    info.last_error_at = d.last_error_at;
    info.attempts = d.attempts;
    info.failures = d.failures;
    info.pinned = d.pinned;
    info.probe = d.probe;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace meshslice
