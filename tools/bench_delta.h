// meshslice_bench's delta cells (issue 20): node 0 edits a large slice (1 byte, 1 % or 50 % of
// its 64-byte blocks per update, paced) and the others apply it; the same cells once with
// deltas off (every update the full slice) and once with deltas on, each in a mesh of its own.
// Per cell: bytes node 0 wrote to its sockets per update a receiver applied, CPU of all nodes
// (every thread, ns resolution) per update delivered to all receivers, propagation p50 (median
// receiver) / p99 (worst receiver), and the share of versions the fewest-served receiver
// applied (newest state wins: a sender that falls behind skips versions, and is not charged
// for them).
#pragma once

#include <map>
#include <sstream>

#include "tools/bench_mesh.h"

namespace meshslice::bench {

inline std::map<uint64_t, int64_t> parseStamps(const std::string& line) {
  std::map<uint64_t, int64_t> out;
  std::istringstream in(line);
  std::string word;
  in >> word;  // the tag
  while (in >> word) {
    const size_t colon = word.find(':');
    if (colon == std::string::npos) continue;
    out[std::stoull(word.substr(0, colon))] = std::stoll(word.substr(colon + 1));
  }
  return out;
}

inline size_t deltaCount(const Config& cfg, size_t size) {
  return size >= 1024 * 1024 ? cfg.delta_count_1m : cfg.delta_count;
}
inline size_t deltaRate(size_t size) { return size >= 1024 * 1024 ? 20 : 100; }

// Node 0's SyncStats: slice_bytes_sent (encoded SliceUpdates and SliceDeltas), slices and
// deltas sent.
struct SenderStats {
  double bytes = 0, slices = 0, deltas = 0;
};
inline SenderStats sliceBytes(Mesh& m) {
  tell(m.kids[0], "report");
  auto r = m.collect({&m.kids[0]}, "REPORT", 10000);
  if (r.empty()) return {};
  return {field(r[0], "slice_bytes"), field(r[0], "sync_sent"), field(r[0], "deltas_sent")};
}

inline void deltaCell(Mesh& m, size_t n, size_t size, const std::string& change, bool deltas, const Config& cfg) {
  const size_t count = deltaCount(cfg, size), rate = deltaRate(size);
  const SenderStats s0 = sliceBytes(m);
  std::vector<double> cpu0;
  for (auto& k : m.kids) cpu0.push_back(cpuSecondsFine(k.pid));
  tell(m.kids[0], "dedit " + std::to_string(size) + " " + change + " " + std::to_string(count) + " " + std::to_string(rate));
  auto sent = m.collect({&m.kids[0]}, "DSENT", static_cast<int>(count * 1000 / rate) + 30000);
  if (sent.empty()) return note("delta cell did not finish");
  // Until every receiver applied the last version (or 5 s: a receiver can skip versions).
  tell(m.kids[0], "dstamps");
  auto stamps_line = m.collect({&m.kids[0]}, "DSTAMPS", 10000);
  if (stamps_line.empty()) return;
  const auto stamps = parseStamps(stamps_line[0]);
  const uint64_t last = stamps.empty() ? 0 : stamps.rbegin()->first;
  std::vector<std::map<uint64_t, int64_t>> arrivals(m.kids.size());
  const int64_t deadline = monoNs() + 5000LL * 1000000;
  for (bool all = false; !all && monoNs() < deadline;) {
    m.idle(100);
    all = true;
    for (size_t i = 1; i < m.kids.size(); ++i) {
      tell(m.kids[i], "darrivals");
      auto a = m.collect({&m.kids[i]}, "DARRIVALS", 10000);
      if (!a.empty())
        for (auto& [v, ns] : parseStamps(a[0])) arrivals[i][v] = ns;
      all = all && arrivals[i].count(last);
    }
  }
  double cpu = 0;
  for (size_t i = 0; i < m.kids.size(); ++i) cpu += cpuSecondsFine(m.kids[i].pid) - cpu0[i];
  std::vector<double> p50s, p99s;
  double fewest = static_cast<double>(count), applied = 0;
  for (size_t i = 1; i < m.kids.size(); ++i) {
    std::vector<double> lat;
    for (auto& [v, ns] : arrivals[i])
      if (auto it = stamps.find(v); it != stamps.end()) lat.push_back(static_cast<double>(ns - it->second) / 1000.0);
    fewest = std::min(fewest, static_cast<double>(lat.size()));
    applied += static_cast<double>(lat.size());
    if (lat.empty()) continue;
    p50s.push_back(percentile(lat, 0.5));
    p99s.push_back(percentile(lat, 0.99));
  }
  const std::string k = nName(n) + sizeName(size) + " " + change + " changed, " + (deltas ? "delta" : "full") + ": ";
  // Per update delivered: a sender that falls behind sends (and is charged for) fewer versions.
  applied = std::max(applied, 1.0);
  figure(k + "wire bytes per update per peer", field(sent[0], "wchar") / applied, "B");
  const SenderStats s1 = sliceBytes(m);
  figure(k + "sync message bytes per update per peer", (s1.bytes - s0.bytes) / applied, "B");
  if (deltas)
    note(k + std::to_string(static_cast<long long>(s1.deltas - s0.deltas)) + " deltas and " +
         std::to_string(static_cast<long long>(s1.slices - s1.deltas - s0.slices + s0.deltas)) + " full slices sent");
  figure(k + "CPU per update (all nodes)", cpu / (applied / static_cast<double>(n - 1)) * 1e6, "us");
  if (!p50s.empty()) {
    figure(k + "propagation p50 (median receiver)", median(p50s), "us");
    figure(k + "propagation p99 (worst receiver)", *std::max_element(p99s.begin(), p99s.end()), "us");
  }
  figure(k + "versions applied (fewest receiver, %)", 100.0 * fewest / static_cast<double>(count), "%");
}

// One mesh of `n` nodes with the d-stores, deltas on or off; every size x change.
// The nodes hold one small store and one throughput store besides the d-stores, so that the
// anti-entropy digests (every store of every node, to every peer, every ~5 s) stay small next
// to what is measured.
inline void runDeltaMesh(const std::string& exe, const Config& base_cfg, size_t n, bool deltas) {
  std::printf("\n== N=%zu delta cells, deltas %s ==\n", n, deltas ? "on" : "off (full slices)");
  Config cfg = base_cfg;
  cfg.stores = cfg.tput_stores = 1;
  Mesh m(cfg, exe, MeshSecret::generate().toInvite());
  std::string sizes;
  for (size_t s : cfg.delta_sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  std::vector<std::string> extra{"--delta-sizes", sizes};
  if (!deltas) extra.insert(extra.end(), {"--no-deltas", "1"});
  for (size_t i = 0; i < n; ++i)
    if (!m.add(n - 1, extra)) return note("node " + std::to_string(i) + " did not start");
  if (m.collect(m.all(), "SYNCED", 30000).empty()) return note("mesh did not sync");
  tell(m.kids[0], "dfill");
  if (m.collect(m.all(1), "DHELD", 60000).empty()) return note("the large slices did not arrive");
  m.idle(300);
  for (size_t size : cfg.delta_sizes)
    for (const std::string change : {"1B", "1%", "50%"}) deltaCell(m, n, size, change, deltas, cfg);
  for (auto& k : m.kids) tell(k, "quit");
  m.collect(m.all(), "STOPPED", 10000);
  for (auto& k : m.kids) reap(k, false);
  m.kids.clear();
}

inline void deltaRatios(const Config& cfg) {
  for (size_t n : cfg.delta_nodes)
    for (size_t size : cfg.delta_sizes)
      for (const std::string change : {"1B", "1%", "50%"}) {
        const std::string base = nName(n) + sizeName(size) + " " + change + " changed, ";
        for (const std::string what : {"wire bytes per update per peer", "CPU per update (all nodes)"}) {
          const std::string full = base + "full: " + what, delta = base + "delta: " + what;
          if (!g_figures.count(full) || !g_figures.count(delta) || g_figures[delta] == 0) continue;
          std::printf("  %-64s %8.2f\n", (base + "full / delta, " + what).c_str(), g_figures[full] / g_figures[delta]);
        }
      }
}

}  // namespace meshslice::bench
