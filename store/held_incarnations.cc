#include "store/held_incarnations.h"

namespace meshslice {

void HeldIncarnations::record(const std::string& store, const DeviceId& device, uint64_t version,
                              uint64_t incarnation) {
  held_[store][device] = Held{version, incarnation};
}

uint64_t HeldIncarnations::lookup(const std::string& store, const DeviceId& device, uint64_t version) const {
  auto s = held_.find(store);
  if (s == held_.end()) return 0;
  auto d = s->second.find(device);
  return d == s->second.end() || d->second.version != version ? 0 : d->second.incarnation;
}

void HeldIncarnations::forgetDevice(const DeviceId& device) {
  for (auto it = held_.begin(); it != held_.end();) {
    it->second.erase(device);
    it = it->second.empty() ? held_.erase(it) : std::next(it);
  }
}

void HeldIncarnations::forgetStore(const std::string& store) { held_.erase(store); }

size_t HeldIncarnations::size() const {
  size_t n = 0;
  for (const auto& [store, devices] : held_) n += devices.size();
  return n;
}

}  // namespace meshslice
