// meshslice_bench's measurements on a running Mesh (tools/bench_mesh.h): propagation latency,
// fan-out throughput, bulk transfer, join-to-synced, eviction and the silent peer. Every wait
// is bounded; a measurement that does not complete prints why and the run goes on.
#pragma once

#include <signal.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tools/bench_mesh.h"

namespace meshslice::bench {

// After a cell: waits until the receivers stop applying the benchmark's updates (a sender
// that fell behind still flushes its backlog), so that they count in no later cell. Bounded by
// `max_ms`; notes what arrived late.
inline void drain(Mesh& m, const std::string& cell, int max_ms = 60000) {
  const int64_t t0 = monoNs(), end = t0 + static_cast<int64_t>(max_ms) * 1000000;
  double late = 0;
  for (bool quiet = false; !quiet && monoNs() < end;) {
    m.idle(300);
    auto receivers = m.all(1);
    for (Child* c : receivers) tell(*c, "report");
    double n = 0;
    for (auto& r : m.collect(receivers, "REPORT", 10000)) n += field(r, "tput_n") + field(r, "lat_n");
    late += n;
    quiet = n == 0;
  }
  if (late > 0)
    note(cell + ": " + std::to_string(static_cast<long long>(late)) + " more updates applied after it, drained in " +
         std::to_string((monoNs() - t0) / 1000000) + " ms");
}

// set() on node 0 (`cmd`: "lat" from another thread of the process, "latloop" on its loop
// thread) until applied on the others, `count` times at cfg.lat_rate.
inline void latency(Mesh& m, size_t n, size_t size, size_t count, const Config& cfg, const std::string& cmd = "lat") {
  m.dropLines();
  tell(m.kids[0], cmd + " " + std::to_string(size) + " " + std::to_string(count) + " " + std::to_string(cfg.lat_rate));
  if (m.collect({&m.kids[0]}, "SENT", static_cast<int>(count * 1000 / cfg.lat_rate) + 20000).empty()) return;
  m.idle(200);
  auto receivers = m.all(1);
  for (Child* c : receivers) tell(*c, "report");
  auto reports = m.collect(receivers, "REPORT", 10000);
  std::vector<double> p50, p99, p999;
  double fewest = static_cast<double>(count);
  for (auto& r : reports) {
    fewest = std::min(fewest, field(r, "lat_n"));
    if (field(r, "lat_n") == 0) continue;
    p50.push_back(field(r, "p50_us"));
    p99.push_back(field(r, "p99_us"));
    p999.push_back(field(r, "p999_us"));
  }
  if (p50.empty()) return;
  std::string k = nName(n) + sizeName(size) + (cmd == "lat" ? "" : " loop-thread set()") + " latency ";
  figure(k + "p50 (median receiver)", median(p50), "us");
  figure(k + "p99 (worst receiver)", *std::max_element(p99.begin(), p99.end()), "us");
  figure(k + "p999 (worst receiver)", *std::max_element(p999.begin(), p999.end()), "us");
  // Newest state wins: a sender that cannot keep up coalesces, and receivers see fewer versions.
  if (fewest < static_cast<double>(count))
    figure(k + "versions applied (fewest receiver, %)", 100.0 * fewest / static_cast<double>(count), "%");
  drain(m, k + "cell");
}

inline std::string rateName(size_t rate) { return rate ? std::to_string(rate / 1000) + "k/s" : "max"; }


// The offered rates of the fan-out bursts for one size.
inline std::vector<size_t> burstRates(size_t n, size_t size, const Config& cfg) {
  if (n == 2 && !cfg.quick)
    return size >= 65536 ? std::vector<size_t>{1000, 5000, 0} : std::vector<size_t>{10000, 50000, 100000, 200000, 0};
  return size >= 65536 ? std::vector<size_t>{1000, 0} : std::vector<size_t>{10000, 100000, 0};
}

// Node 0 writes `rate` updates/s (0: as fast as its thread can) of `size` bytes for `secs`,
// spread over its throughput stores; the others count what they apply. Any PeerLeft printed
// meanwhile is a false eviction.
inline void throughput(Mesh& m, size_t n, size_t size, size_t rate, double secs) {
  m.dropLines();
  std::vector<double> cpu0;
  for (auto& k : m.kids) cpu0.push_back(cpuSeconds(k.pid));
  tell(m.kids[0], "burst " + std::to_string(size) + " " + std::to_string(secs) + " " + std::to_string(rate));
  auto sent = m.collect({&m.kids[0]}, "SENT", static_cast<int>(secs * 1000) + 20000);
  if (sent.empty()) return;
  m.idle(500);  // let the last frames land
  double cpu = 0;
  for (size_t i = 0; i < m.kids.size(); ++i) cpu += cpuSeconds(m.kids[i].pid) - cpu0[i];
  auto receivers = m.all(1);
  for (Child* c : receivers) tell(*c, "report");
  auto reports = m.collect(receivers, "REPORT", 10000);
  double delivered = 0;
  for (auto& r : reports) delivered += field(r, "tput_n");
  const size_t left = m.leftLines();
  ++g_evictions.bursts;
  g_evictions.false_evictions += left;
  // Rates over the send window: what the receivers applied of what node 0 wrote meanwhile.
  std::string k = nName(n) + sizeName(size) + " @" + rateName(rate) + " ";
  figure(k + "set()/s node 0", field(sent[0], "n") / secs, "/s");
  figure(k + "applied/s (sum of receivers)", delivered / secs, "/s");
  if (size >= 1024) figure(k + "applied MB/s (sum of receivers)", delivered * static_cast<double>(size) / secs / 1e6, "MB/s");
  figure(k + "CPU per applied update (all nodes)", cpu / std::max(delivered, 1.0) * 1e6, "us");
  if (left) figure(k + "FALSE EVICTIONS during burst", static_cast<double>(left), "");
  drain(m, k + "burst");
}

inline void bulk(Mesh& m, const Config& cfg) {
  m.dropLines();
  tell(m.kids[0], "bulk 65536 " + std::to_string(cfg.burst_seconds));
  if (m.collect({&m.kids[0]}, "SENT", static_cast<int>(cfg.burst_seconds * 1000) + 20000).empty()) return;
  m.idle(500);
  tell(m.kids[1], "report");
  auto r = m.collect({&m.kids[1]}, "REPORT", 10000);
  if (r.empty()) return;
  double secs = (field(r[0], "bulk_last") - field(r[0], "bulk_first")) / 1e9;
  if (secs > 0) figure("N2 64KiB bus messages MB/s (encrypted)", field(r[0], "bulk_bytes") / secs / 1e6, "MB/s");
}

// Median and max delay of the survivors' LEFT lines about `victim` (the last node) after
// `t0`; prints them under `name` unless `quiet`. False if not every survivor evicted it.
inline bool evictions(Mesh& m, const std::string& victim, int64_t t0, const std::string& name, int timeout_ms,
                      bool quiet = false) {
  std::vector<Child*> survivors;
  for (auto& k : m.kids)
    if (k.alive && &k != &m.kids.back()) survivors.push_back(&k);
  std::vector<std::string> lines;
  if (!m.collect(survivors, "LEFT " + victim, timeout_ms, &lines)) {
    note(name + ": " + std::to_string(lines.size()) + " of " + std::to_string(survivors.size()) +
         " survivors evicted it within " + std::to_string(timeout_ms) + " ms");
    return false;
  }
  if (quiet) return true;
  std::vector<double> ms;
  for (auto& l : lines) ms.push_back((field(l, "ns") - static_cast<double>(t0)) / 1e6);
  figure(name + " median", median(ms), "ms");
  figure(name + " max", *std::max_element(ms.begin(), ms.end()), "ms");
  return true;
}

// Every node in turn rewrites its --stores slices with `size`-byte values (the next one once
// the last one's queues emptied: a mesh that wrote its state over time, not a mesh-wide
// burst); waits until every node holds all the others' new slices. PeerLeft meanwhile counts
// as false evictions.
inline bool fill(Mesh& m, size_t n, size_t size) {
  m.dropLines();
  const int64_t t0 = monoNs();
  for (auto& k : m.kids) {
    tell(k, "fill " + std::to_string(size));
    for (int i = 0; i < 2000; ++i) {  // <= 20 s per node
      tell(k, "report");
      auto r = m.collect({&k}, "REPORT", 10000);
      if (r.empty() || field(r[0], "pending") == 0) break;
      m.idle(10);
    }
  }
  const bool synced = !m.collect(m.all(), "SYNCED", 60000).empty();
  const std::string k = nName(n) + "every slice rewritten at " + sizeName(size);
  const size_t left = m.leftLines();
  g_evictions.false_evictions += left;
  if (left) figure(k + ": FALSE EVICTIONS", static_cast<double>(left), "");
  if (!synced) {
    note(k + ": the mesh did not sync within 60 s");
    for (auto& c : m.kids) tell(c, "report");
    for (auto& r : m.collect(m.all(), "REPORT", 10000))
      if (field(r, "held") < field(r, "expect")) note("  a node holds " + r.substr(r.find("sync_sent")));
    return false;
  }
  figure(k + ", mesh synced", (monoNs() - t0) / 1e6, "ms");
  return true;
}

// A newcomer that knows every address (as discovery would tell it) joins the synced mesh
// whose --stores slices are `size` bytes, until it holds all n x stores of them; then it stops
// gracefully (timed when `time_stop`).
inline void join(Mesh& m, size_t n, size_t size, const Config& cfg, bool time_stop) {
  m.dropLines();
  const std::string s = std::to_string(size);
  Child* c = m.add(n * cfg.stores, {"--initial-size", s, "--sync-min-size", s});
  if (!c) return note("newcomer did not start");
  auto synced = m.collect({c}, "SYNCED", 30000);
  const std::string k = nName(n) + "join-to-synced " + sizeName(size) + " x " + std::to_string(n * cfg.stores) + " slices ";
  if (synced.empty()) {
    note(k + "did not complete within 30 s");
  } else {
    figure(k + "from spawn", (field(synced[0], "ns") - static_cast<double>(c->spawned_ns)) / 1e6, "ms");
    std::string joined;
    for (auto& l : c->lines)
      if (joined.empty() && l.rfind("JOINED", 0) == 0) joined = l;
    if (!joined.empty()) figure(k + "from first link", (field(synced[0], "ns") - field(joined, "ns")) / 1e6, "ms");
  }
  const std::string newcomer = m.ids.back();
  int64_t t_quit = monoNs();
  tell(*c, "quit");
  evictions(m, newcomer, t_quit, nName(n) + "graceful stop -> peers evict", 5000, !time_stop);
  reap(*c, false);
  m.dropLast();
}

// The last node is SIGSTOPped (a host that froze or walked out of range: no FIN, no goodbye)
// while node 0 runs a 1 KiB fan-out burst of cfg.silent_rate/s, idle when `under_load` is
// false. Reports when the others evict it and every other PeerLeft (false evictions).
inline void silentPeer(Mesh& m, size_t n, const Config& cfg, bool under_load) {
  m.dropLines();
  const std::string victim = m.ids.back();
  const std::string k = nName(n) + "silent peer (SIGSTOP)" + (under_load ? " during 1KiB @" + rateName(cfg.silent_rate) + " burst" : ", idle") + " -> peers evict";
  if (under_load) {
    tell(m.kids[0], "burst 1024 " + std::to_string(cfg.silent_burst_seconds) + " " + std::to_string(cfg.silent_rate));
    m.idle(500);  // the burst is in full swing
  }
  const int64_t t_stop = monoNs();
  kill(m.kids.back().pid, SIGSTOP);
  evictions(m, victim, t_stop, k, 8000);
  if (under_load) {
    if (m.collect({&m.kids[0]}, "SENT", static_cast<int>(cfg.silent_burst_seconds * 1000) + 20000).empty())
      note("the burst did not end");
    m.idle(500);
    auto receivers = m.all(1);
    receivers.pop_back();  // not the stopped one
    for (Child* c : receivers) tell(*c, "report");
    double applied = 0;
    for (auto& r : m.collect(receivers, "REPORT", 10000)) applied += field(r, "tput_n");
    figure(k + ": applied/s meanwhile", applied / cfg.silent_burst_seconds, "/s");
  }
  reap(m.kids.back(), true);
  m.dropLast();
  const size_t false_evictions = m.leftLines();  // of the survivors, about anyone
  g_evictions.false_evictions += false_evictions;
  g_evictions.bursts += under_load;
  figure(k + ": false evictions", static_cast<double>(false_evictions), "");
}

}  // namespace meshslice::bench
