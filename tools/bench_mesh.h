// The parent side of meshslice_bench: its configuration, the figures it prints, and a mesh of
// node processes (tools/bench_node.h) it drives over pipes. Each measurement here is one
// function that prints figures under a name the ratio table (meshslice_bench.cc) looks up.
#pragma once

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "tools/bench_node.h"

namespace meshslice::bench {

struct Config {
  bool quick = false;
  std::vector<size_t> nodes{2, 4, 8, 16, 32};
  std::vector<size_t> sizes{64, 1024, 65536};
  size_t stores = 16;
  // Throughput bursts write round-robin over these: more stores than writes per 1 ms tick, so
  // what is measured is the pipeline, not coalescing of a store's superseded versions.
  size_t tput_stores = 512;
  size_t lat_rate = 1000;
  size_t lat_count = 3000;         // N = 2
  size_t lat_count_fanout = 2000;  // N > 2: every size, so shorter cells
  double burst_seconds = 2;        // N = 2
  double burst_seconds_fanout = 1; // N > 2
  // Silent peer (SIGSTOP) measured at these N, idle and during a fan-out burst of
  // silent_rate 1 KiB updates/s that outlasts the eviction.
  std::vector<size_t> silent_nodes{4, 16};
  size_t silent_rate = 100000;
  double silent_burst_seconds = 6;
  bool mdns = true;
  int mdns_trials = 10;
  // Namespace mode of the mDNS section: "NS1,NS2" and their IPv4 addresses "IP1,IP2".
  std::string mdns_netns, mdns_ips;
  std::string libp2p_dir;
  bool baselines = true;
  std::string pin;  // "" (the scheduler places), "same" (every node on CPU 0), "split" (node i on CPU i % nproc)
  // Delta cells (tools/bench_delta.h): at these N, slices of these sizes, this many updates per
  // cell (1 MiB: delta_count_1m, paced at 20/s; smaller ones at 100/s).
  std::vector<size_t> delta_nodes{2, 16};
  std::vector<size_t> delta_sizes{65536, 1024 * 1024};
  size_t delta_count = 200;
  size_t delta_count_1m = 60;
  bool delta_only = false;  // only the delta cells (no baselines, meshes, mDNS)
};

// name -> value of every figure printed, for the ratio table.
inline std::map<std::string, double> g_figures;
inline void figure(const std::string& name, double value, const char* unit) {
  g_figures[name] = value;
  std::printf("  %-50s %12.1f %s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}
inline void note(const std::string& text) {
  std::printf("  %s\n", text.c_str());
  std::fflush(stdout);
}

// PeerLeft lines seen during fan-out bursts, over all bursts of the run.
struct EvictionWatch {
  size_t bursts = 0;
  size_t false_evictions = 0;
};
inline EvictionWatch g_evictions;

inline std::string sizeName(size_t s) {
  return s >= 1024 ? std::to_string(s / 1024) + "KiB" : std::to_string(s) + "B";
}
inline std::string nName(size_t n) { return "N" + std::to_string(n) + " "; }

class Mesh {
 public:
  Mesh(const Config& cfg, std::string exe, std::string invite)
      : cfg_(cfg), exe_(std::move(exe)), invite_(std::move(invite)) {
    kids.reserve(40);  // Child* handed out stay valid: at most 32 nodes + a newcomer
  }
  ~Mesh() {
    for (auto& k : kids) reap(k, true);
  }
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;

  std::vector<Child> kids;
  std::vector<std::string> addrs, ids;
  bool dial_known = true;  // false: newcomers get no --peer (they must discover by mDNS)

  // Adds a node dialing every node before it (unless !dial_known); waits for LISTEN.
  // `wrapper` runs it inside something (`ip netns exec NS`).
  Child* add(size_t expect, std::vector<std::string> extra = {}, std::vector<std::string> wrapper = {}) {
    std::vector<std::string> args{"--child", "--name", "n" + std::to_string(kids.size()), "--invite", invite_,
                                  "--stores", std::to_string(cfg_.stores), "--tput-stores", std::to_string(cfg_.tput_stores),
                                  "--expect", std::to_string(expect)};
    if (dial_known)
      for (const auto& a : addrs) args.insert(args.end(), {"--peer", a});
    args.insert(args.end(), extra.begin(), extra.end());
    kids.push_back(spawnChild(exe_, args, wrapper, cpuFor(kids.size())));
    std::string line;
    if (!expectLine(kids.back(), "LISTEN ", &line, 10000)) return nullptr;
    std::istringstream in(line.substr(7));
    std::string addr, id;
    in >> addr >> id;
    addrs.push_back(addr);
    ids.push_back(id);
    return &kids.back();
  }
  // Stops tracking the last node (after it was reaped).
  void dropLast() {
    kids.pop_back();
    addrs.pop_back();
    ids.pop_back();
  }
  std::vector<Child*> all(size_t from = 0) {
    std::vector<Child*> p;
    for (size_t i = from; i < kids.size(); ++i)
      if (kids[i].alive) p.push_back(&kids[i]);
    return p;
  }
  // Waits until each of `who` printed a line with `prefix`; returns them (empty on timeout).
  std::vector<std::string> collect(const std::vector<Child*>& who, const std::string& prefix, int timeout_ms) {
    std::vector<std::string> got;
    return collect(who, prefix, timeout_ms, &got) ? got : std::vector<std::string>{};
  }
  // The same; `got` receives the lines that did arrive, true if all did.
  bool collect(const std::vector<Child*>& who, const std::string& prefix, int timeout_ms, std::vector<std::string>* got) {
    std::vector<std::string> lines(who.size());
    std::vector<bool> have(who.size(), false);
    size_t n = 0;
    bool ok = pumpUntil(all(), [&] {
      for (size_t i = 0; i < who.size(); ++i)
        if (!have[i] && takeLine(*who[i], prefix, &lines[i])) have[i] = true, ++n;
      return n == who.size();
    }, timeout_ms);
    got->clear();
    for (size_t i = 0; i < who.size(); ++i)
      if (have[i]) got->push_back(lines[i]);
    return ok;
  }
  void dropLines() {
    for (auto& k : kids) k.lines.clear();
  }
  // Lets the children print for `ms`.
  void idle(int ms) {
    pumpUntil(all(), [] { return false; }, ms);
  }
  // LEFT lines the nodes printed since the last dropLines().
  size_t leftLines() const {
    size_t left = 0;
    for (const auto& k : kids)
      for (const auto& l : k.lines) left += l.rfind("LEFT", 0) == 0;
    return left;
  }

 private:
  int cpuFor(size_t index) const {
    if (cfg_.pin == "same") return 0;
    if (cfg_.pin == "split") return static_cast<int>(index % static_cast<size_t>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN))));
    return -1;
  }
  const Config& cfg_;
  std::string exe_, invite_;
};

}  // namespace meshslice::bench
