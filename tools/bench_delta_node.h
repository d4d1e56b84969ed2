// The node side of meshslice_bench's delta cells (tools/bench_delta.h): large RawStores
// "d<size>" that node 0 fills with random data and then edits, 1 byte or a share of its 64-byte
// blocks per update, paced; no stamp inside the value (a 1-byte edit must stay 1 byte), so the
// writer records when it wrote each version and the receivers when they applied it, and the
// parent matches them by version (one CLOCK_MONOTONIC).
//
// Commands (BenchNode hands them over): dfill | dedit SIZE CHANGE COUNT RATE | dstamps |
// darrivals. Lines out: DFILLED, DHELD (a receiver holds every d-store of node 0),
// DSENT n=.. wchar=.. (bytes this process wrote during the edits), DSTAMPS v:ns ...,
// DARRIVALS v:ns ...
#pragma once

#include <fstream>
#include <random>

#include "store/synced_store.h"
#include "tools/bench_support.h"

namespace meshslice::bench {

// Bytes this process has written with write(2) and friends (sockets included).
inline uint64_t processWchar() {
  std::ifstream in("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

// "1B": one byte; "P%": P % of the 64-byte blocks rewritten with random bytes.
inline void applyChange(Bytes& v, const std::string& change, std::mt19937_64& rng) {
  if (v.empty()) return;
  if (change == "1B") {
    v[rng() % v.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    return;
  }
  const size_t blocks = v.size() / 64, percent = std::stoul(change);
  std::vector<uint32_t> order(blocks);
  for (size_t i = 0; i < blocks; ++i) order[i] = static_cast<uint32_t>(i);
  const size_t k = std::max<size_t>(1, blocks * percent / 100);
  for (size_t i = 0; i < k; ++i) {
    std::swap(order[i], order[i + rng() % (blocks - i)]);
    for (size_t j = 0; j < 64; ++j) v[order[i] * 64 + j] = static_cast<uint8_t>(rng());
  }
}

class DeltaStores {
 public:
  // `emit` prints a line (any thread).
  DeltaStores(const std::vector<size_t>& sizes, const DeviceId& self, std::function<void(const std::string&)> emit)
      : emit_(std::move(emit)), rng_(std::hash<std::string>{}(self.toString())) {
    for (size_t s : sizes) {
      stores_.push_back(std::make_unique<RawStore>("d" + std::to_string(s), self));
      sizes_.push_back(s);
    }
    for (auto& st : stores_)
      handles_.push_back(st->listen([this, st = st.get()](const RawStore::Event& e) { onEvent(*st, e); }));
  }
  std::vector<std::unique_ptr<RawStore>>& stores() { return stores_; }

  // Command thread. True if the command was one of ours.
  bool command(const std::string& cmd, std::istringstream& in) {
    const auto& emit = emit_;
    if (cmd == "dfill") {
      for (size_t i = 0; i < stores_.size(); ++i) {
        values_.emplace_back(sizes_[i]);
        for (auto& b : values_.back()) b = static_cast<uint8_t>(rng_());
        stores_[i]->set(values_.back()).ignore();
      }
      emit("DFILLED");
    } else if (cmd == "dedit") {
      size_t size = 0, count = 0, rate = 1;
      std::string change;
      in >> size >> change >> count >> rate;
      edit(size, change, std::min<size_t>(count, 100000), std::max<size_t>(rate, 1), emit);
    } else if (cmd == "dstamps" || cmd == "darrivals") {
      std::lock_guard<std::mutex> lock(mutex_);
      auto& list = cmd == "dstamps" ? stamps_ : arrivals_;
      std::string line = cmd == "dstamps" ? "DSTAMPS" : "DARRIVALS";
      for (auto& [v, ns] : list) line += " " + std::to_string(v) + ":" + std::to_string(ns);
      list.clear();
      emit(line);
    } else {
      return false;
    }
    return true;
  }

 private:
  void edit(size_t size, const std::string& change, size_t count, size_t rate,
            const std::function<void(const std::string&)>& emit) {
    size_t i = 0;
    while (i < sizes_.size() && sizes_[i] != size) ++i;
    if (i == sizes_.size() || values_.size() <= i) return emit("DSENT n=0 wchar=0");
    const uint64_t w0 = processWchar();
    const int64_t start = monoNs(), period = 1000000000LL / static_cast<int64_t>(rate);
    for (size_t k = 0; k < count; ++k) {
      sleepUntilNs(start + static_cast<int64_t>(k) * period);
      applyChange(values_[i], change, rng_);
      const int64_t t = monoNs();
      stores_[i]->set(values_[i]).ignore();
      std::lock_guard<std::mutex> lock(mutex_);
      stamps_.push_back({last_version_, t});
    }
    // Let the loop hand the last one to the sockets before counting.
    sleepUntilNs(monoNs() + 200 * 1000000LL);
    emit("DSENT n=" + std::to_string(count) + " wchar=" + std::to_string(processWchar() - w0));
  }

  void onEvent(RawStore& store, const RawStore::Event& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto* l = std::get_if<RawStore::LocalChanged>(&e)) {
      last_version_ = l->version;  // on the writing thread, inside set()
    } else if (auto* u = std::get_if<RawStore::PeerUpdated>(&e)) {
      arrivals_.push_back({u->version, monoNs()});
      held_[store.storeId()] = true;
      if (!announced_ && held_.size() == stores_.size()) {
        announced_ = true;
        emit_("DHELD");
      }
    }
  }

  std::function<void(const std::string&)> emit_;
  std::vector<std::unique_ptr<RawStore>> stores_;
  std::vector<size_t> sizes_;
  std::vector<Bytes> values_;  // node 0's current values; command thread
  std::mt19937_64 rng_;
  std::mutex mutex_;  // guards the fields below
  uint64_t last_version_ = 0;
  std::vector<std::pair<uint64_t, int64_t>> stamps_, arrivals_;
  std::map<std::string, bool> held_;
  bool announced_ = false;
  std::vector<ListenerHandle> handles_;  // last: listeners stop before the fields go
};

}  // namespace meshslice::bench
