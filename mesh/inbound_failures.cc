#include "mesh/inbound_failures.h"

#include <algorithm>

#include "transport/address.h"

namespace meshslice {
namespace {

std::string hostOf(const std::string& address) {
  auto hp = splitHostPort(address);
  return hp ? hp->host : address;
}

}  // namespace

void InboundFailures::note(const std::string& address, const DeviceId& device, std::string words, Micros now) {
  const std::string host = hostOf(address);
  if (!by_host_.count(host) && by_host_.size() >= kMaxInboundFailureHosts) {
    auto oldest = std::min_element(by_host_.begin(), by_host_.end(),
                                   [](const auto& a, const auto& b) { return a.second.last_at < b.second.last_at; });
    by_host_.erase(oldest);
  }
  InboundFailure& f = by_host_[host];
  f.host = host;
  f.last_error = std::move(words);
  if (!device.isZero()) f.device = device;
  ++f.count;
  f.last_at = now;
}

std::vector<InboundFailure> InboundFailures::snapshot() const {
  std::vector<InboundFailure> out;
  for (const auto& [host, f] : by_host_) out.push_back(f);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last_at > b.last_at; });
  return out;
}

}  // namespace meshslice
