// meshslice_bench: end-to-end figures of a mesh of node processes on 127.0.0.1, with the
// baselines of the same run (raw TCP, AEAD and cross-thread wake from tcp_baseline, js-libp2p
// gossipsub) and their ratios.
//
//   meshslice_bench [--quick] [--nodes 2,4,8,16,32] [--sizes 64,1024,65536] [--stores 16]
//                   [--lat-count N] [--burst-seconds S] [--silent-nodes 4,16]
//                   [--libp2p DIR] [--no-baselines] [--no-mdns] [--pin same|split]
//                   [--mdns-netns NS1,NS2 --mdns-ips IP1,IP2]
//                   [--delta-nodes 2,16] [--delta-sizes 65536,1048576] [--delta-count N] [--delta-only]
//   meshslice_bench --child ...            one node process (tools/bench_node.h)
//   meshslice_bench --mdns-watch IF ...    the mDNS announcement watcher (tools/bench_mdns.h)
//
// Order: raw TCP / AEAD / wake baseline, then per N: mesh formation, RSS per node; for every
// size: propagation p50/p99/p999 (set() on node 0 until applied on the others, paced at
// 1,000/s, one CLOCK_MONOTONIC; at N = 2 also with set() on the loop thread) and fan-out
// throughput (updates/s applied across the N-1 receivers, CPU per applied update, PeerLeft
// during the burst = false evictions); at N = 2 64 KiB bus bulk; before those (on the quiet
// mesh) join-to-synced of a newcomer into the mesh with --stores slices of each size and its
// graceful stop; after them, eviction after kill -9 and, at --silent-nodes, a SIGSTOPped peer
// during a fan-out burst and idle. After each cell the receivers are drained of late updates.
// js-libp2p runs right after the N = 2 and N = 4 meshes. Then the delta cells (tools/bench_delta.h):
// at each --delta-nodes N a mesh with deltas off and one with deltas on. Then RSS per connected peer, mDNS
// start-to-link (lo, and two namespaces when given), the ratio table. Every wait is bounded. --quick:
// N = 2, 4, shorter cells (about a minute); the full run takes about 6 minutes here.
#include <cmath>
#include <cstring>
#include <map>

#include "base/log.h"
#include "tools/bench_baselines.h"
#include "tools/bench_delta.h"
#include "tools/bench_mdns.h"
#include "tools/bench_measure.h"

using namespace meshslice;
using namespace meshslice::bench;

namespace {

// Per-size latency and throughput cells of one mesh.
void cells(Mesh& m, size_t n, const Config& cfg) {
  const bool pair = n == 2;
  const size_t count = pair ? cfg.lat_count : cfg.lat_count_fanout;
  const double secs = pair ? cfg.burst_seconds : cfg.burst_seconds_fanout;
  for (size_t size : cfg.sizes) latency(m, n, size, count, cfg);
  if (pair)
    for (size_t size : cfg.sizes) latency(m, n, size, count, cfg, "latloop");
  for (size_t size : cfg.sizes)
    for (size_t rate : burstRates(n, size, cfg)) throughput(m, n, size, rate, secs);
  if (pair) bulk(m, cfg);
  m.idle(300);
}

// Joins with slices of every size (the mesh starts with 64 B ones).
void joins(Mesh& m, size_t n, const Config& cfg) {
  bool first = true;
  for (size_t size : cfg.sizes) {
    if (size != 64 && !fill(m, n, size)) continue;
    join(m, n, size, cfg, first);
    first = false;
  }
}

// The silent peer during a burst, kill -9, the silent peer idle: each takes one node away.
void departures(Mesh& m, size_t n, const Config& cfg) {
  const bool silent = std::find(cfg.silent_nodes.begin(), cfg.silent_nodes.end(), n) != cfg.silent_nodes.end();
  if (silent && n >= 4) {
    silentPeer(m, n, cfg, true);
    drain(m, nName(n) + "silent peer burst");
  }
  m.dropLines();
  const std::string victim = m.ids.back();
  const int64_t t_kill = monoNs();
  kill(m.kids.back().pid, SIGKILL);
  evictions(m, victim, t_kill, nName(n) + "kill -9 -> peers evict", 5000);
  reap(m.kids.back(), false);
  m.dropLast();
  if (silent && m.kids.size() >= 2) silentPeer(m, n, cfg, false);
}

void runMesh(const std::string& exe, const Config& cfg, size_t n, std::vector<std::pair<size_t, double>>& rss) {
  std::printf("\n== N=%zu nodes, %zu stores each ==\n", n, cfg.stores);
  Mesh m(cfg, exe, MeshSecret::generate().toInvite());
  const int64_t t0 = monoNs();
  for (size_t i = 0; i < n; ++i)
    if (!m.add((n - 1) * cfg.stores)) return note("node " + std::to_string(i) + " did not start");
  if (m.collect(m.all(), "SYNCED", 30000).empty()) return note("mesh did not sync");
  figure(nName(n) + "mesh formed and synced (from first spawn)", (monoNs() - t0) / 1e6, "ms");
  m.idle(500);
  double total = 0;
  for (auto& k : m.kids) total += static_cast<double>(rssKb(k.pid));
  rss.push_back({n, total / static_cast<double>(n)});
  figure(nName(n) + "RSS per node (64 B slices)", total / static_cast<double>(n), "KiB");
  joins(m, n, cfg);  // on the quiet mesh, before any burst leaves a backlog
  cells(m, n, cfg);
  departures(m, n, cfg);
  for (auto& k : m.kids) tell(k, "quit");
  m.collect(m.all(), "STOPPED", 10000);
  for (auto& k : m.kids) reap(k, false);
  m.kids.clear();
}

void ratio(const std::string& name, const std::string& a, const std::string& b, const std::string& target) {
  if (!g_figures.count(a) || !g_figures.count(b) || g_figures[b] == 0) return;
  std::printf("  %-64s %8.2f   (target %s)\n", name.c_str(), g_figures[a] / g_figures[b], target.c_str());
}

void printRatios(const Config& cfg) {
  std::printf("\n== ratios ==\n");
  g_figures["one ms"] = 1000;
  for (size_t size : cfg.sizes) {
    const std::string s = sizeName(size), target = size == 1024 ? "<= 1.5" : "-";
    ratio(s + " propagation p50 / raw TCP " + s + " RTT p50 (both paced)", "N2 " + s + " latency p50 (median receiver)",
          "raw TCP " + s + " paced RTT p50", target);
    ratio("  same, set() on the node's loop thread", "N2 " + s + " loop-thread set() latency p50 (median receiver)",
          "raw TCP " + s + " paced RTT p50", target);
    ratio("  " + s + " propagation p50 / raw TCP " + s + " one-way p50", "N2 " + s + " latency p50 (median receiver)",
          "raw TCP " + s + " paced one-way p50", "-");
  }
  ratio("1KiB p50 app-thread minus loop-thread set() / bare wake p50", "N2 1KiB p50: app-thread minus loop-thread set()",
        "wake: uv_async_send -> loop thread (any) p50", "-");
  ratio("1KiB propagation p99 at 1,000/s (ms)", "N2 1KiB latency p99 (worst receiver)", "one ms", "< 1");
  ratio("64KiB encrypted bus MB/s / raw TCP 64KiB MB/s", "N2 64KiB bus messages MB/s (encrypted)", "raw TCP 64KiB MB/s", ">= 0.60");
  ratio("AEAD ceiling: ChaCha20-Poly1305 64KiB MB/s / raw TCP 64KiB MB/s", "AEAD ChaCha20-Poly1305 64KiB encrypt MB/s (one core)",
        "raw TCP 64KiB MB/s", "-");
  ratio("64KiB encrypted bus MB/s / AEAD 64KiB MB/s (one core)", "N2 64KiB bus messages MB/s (encrypted)",
        "AEAD ChaCha20-Poly1305 64KiB encrypt MB/s (one core)", ">= 0.70");
  ratio("1KiB slice updates/s N2 (max) / raw TCP 1KiB msgs/s", "N2 1KiB @max applied/s (sum of receivers)", "raw TCP 1KiB msgs/s", "-");
  for (size_t n : {2, 4}) {
    const std::string N = "N" + std::to_string(n), js = "js-libp2p " + N + " gossipsub 1KiB ";
    for (const std::string& rate : std::vector<std::string>{"100", std::to_string(cfg.lat_rate)}) {
      ratio("js-libp2p " + N + " 1KiB p50 (" + rate + "/s) / meshslice " + N + " 1KiB p50 (1000/s)", js + "latency p50 (" + rate + "/s)",
            N + " 1KiB latency p50 (median receiver)", ">= 10");
      ratio("js-libp2p " + N + " 1KiB p99 (" + rate + "/s) / meshslice " + N + " 1KiB p99 (1000/s)", js + "latency p99 (" + rate + "/s)",
            N + " 1KiB latency p99 (worst receiver)", ">= 10");
    }
    ratio("meshslice " + N + " 1KiB updates/s (max) / js-libp2p " + N + " msgs/s", N + " 1KiB @max applied/s (sum of receivers)",
          js + "msgs/s (sum of subscribers)", ">= 10");
  }
  deltaRatios(cfg);
  std::printf("  %-64s %8zu   (over %zu bursts; target 0)\n", "false evictions during fan-out bursts", g_evictions.false_evictions,
              g_evictions.bursts);
}

std::vector<size_t> numberList(const std::string& s) {
  std::vector<size_t> v;
  for (const auto& x : splitComma(s)) v.push_back(std::stoul(x));
  return v;
}

// Applies --quick and the flags to the defaults; false on a bad value.
bool configure(Config& cfg, std::map<std::string, std::string>& flags) {
  if (cfg.quick) {
    cfg.nodes = {2, 4};
    cfg.lat_count = cfg.lat_count_fanout = 1000;
    cfg.burst_seconds = cfg.burst_seconds_fanout = 1;
    cfg.silent_nodes = {4};
    cfg.mdns_trials = 3;
    cfg.delta_nodes = {2};
    cfg.delta_count = 100;
    cfg.delta_count_1m = 30;
  }
  if (flags.count("nodes")) cfg.nodes = numberList(flags["nodes"]);
  if (flags.count("sizes")) cfg.sizes = numberList(flags["sizes"]);
  if (flags.count("silent-nodes")) cfg.silent_nodes = numberList(flags["silent-nodes"]);
  if (flags.count("stores")) cfg.stores = std::stoul(flags["stores"]);
  if (flags.count("lat-count")) cfg.lat_count = cfg.lat_count_fanout = std::clamp<size_t>(std::stoul(flags["lat-count"]), 10, 100000);
  if (flags.count("burst-seconds")) cfg.burst_seconds = cfg.burst_seconds_fanout = std::clamp(std::stod(flags["burst-seconds"]), 0.1, 30.0);
  if (flags.count("libp2p")) cfg.libp2p_dir = flags["libp2p"];
  if (flags.count("pin")) cfg.pin = flags["pin"];
  if (flags.count("mdns-netns")) cfg.mdns_netns = flags["mdns-netns"];
  if (flags.count("mdns-ips")) cfg.mdns_ips = flags["mdns-ips"];
  if (flags.count("delta-nodes")) cfg.delta_nodes = flags["delta-nodes"] == "0" ? std::vector<size_t>{} : numberList(flags["delta-nodes"]);
  if (flags.count("delta-sizes")) cfg.delta_sizes = numberList(flags["delta-sizes"]);
  if (flags.count("delta-count"))
    cfg.delta_count = cfg.delta_count_1m = std::clamp<size_t>(std::stoul(flags["delta-count"]), 2, 10000);
  for (size_t n : cfg.delta_nodes)
    if (n < 2 || n > 32) return false;
  for (size_t s : cfg.delta_sizes)
    if (s < 4096 || s > kMaxSliceData) return false;
  if (!cfg.pin.empty() && cfg.pin != "same" && cfg.pin != "split") return false;
  for (size_t n : cfg.nodes)
    if (n < 2 || n > 32) return false;
  for (size_t s : cfg.sizes)
    if (s < kStampBytes || s > kMaxSliceData) return false;
  return !cfg.nodes.empty() && !cfg.sizes.empty() && cfg.stores >= 1 && cfg.stores <= 64;
}

int usage() {
  std::fprintf(stderr,
               "usage: meshslice_bench [--quick] [--nodes 2,..,32] [--sizes 64,..] [--stores 1..64] [--lat-count N]\n"
               "                       [--burst-seconds S] [--silent-nodes 4,..] [--libp2p DIR] [--no-baselines]\n"
               "                       [--no-mdns] [--pin same|split] [--mdns-netns NS1,NS2 --mdns-ips IP1,IP2]\n"
               "                       [--delta-nodes 2,16|0] [--delta-sizes 65536,1048576] [--delta-count N] [--delta-only]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  setLogLevel(LogLevel::kError);
  LogLevel level;
  if (const char* env = std::getenv("MESHSLICE_LOG_LEVEL"); env && parseLogLevel(env, level)) setLogLevel(level);
  std::map<std::string, std::string> flags;
  std::vector<std::string> peers;
  bool child = false;
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--child") child = true;
    else if (a == "--quick") cfg.quick = true;
    else if (a == "--no-baselines") cfg.baselines = false;
    else if (a == "--no-mdns") cfg.mdns = false;
    else if (a == "--delta-only") cfg.delta_only = true;
    else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      if (a == "--peer") peers.push_back(argv[++i]);
      else flags[a.substr(2)] = argv[++i];
    } else {
      return usage();
    }
  }
  if (child) return BenchNode(flags, peers).run();
  if (flags.count("mdns-watch"))
    return runMdnsWatch(flags["mdns-watch"], static_cast<uint16_t>(std::stoi(flags.count("mdns-port") ? flags["mdns-port"] : "5353")));
  signal(SIGPIPE, SIG_IGN);
  try {
    if (!configure(cfg, flags)) return usage();
  } catch (const std::exception&) {  // std::stoul on a bad number
    return usage();
  }
  const std::string exe = selfExe();
  const int64_t t0 = monoNs();
  std::printf("meshslice_bench: nodes");
  for (size_t n : cfg.nodes) std::printf(" %zu", n);
  std::printf(", %zu stores, placement %s\n", cfg.stores, cfg.pin.empty() ? "scheduler" : cfg.pin.c_str());
  if (cfg.baselines && !cfg.delta_only) runTcpBaseline(exe, cfg);  // right before the N = 2 mesh: the least drift
  std::vector<std::pair<size_t, double>> rss;
  for (size_t n : cfg.delta_only ? std::vector<size_t>{} : cfg.nodes) {
    runMesh(exe, cfg, n, rss);
    if (cfg.baselines && (n == 2 || n == 4)) runLibp2p(n, cfg);
  }
  for (size_t n : cfg.delta_nodes)
    for (bool deltas : {false, true}) runDeltaMesh(exe, cfg, n, deltas);
  if (rss.size() >= 2 && rss.back().first > rss.front().first) {
    std::printf("\n== memory ==\n");
    figure("RSS per connected peer ((RSS(Nmax)-RSS(Nmin))/(Nmax-Nmin))",
           (rss.back().second - rss.front().second) / static_cast<double>(rss.back().first - rss.front().first), "KiB");
  }
  const std::string app = "N2 1KiB latency p50 (median receiver)", loop = "N2 1KiB loop-thread set() latency p50 (median receiver)";
  if (g_figures.count(app) && g_figures.count(loop)) {
    std::printf("\n== cross-thread wake ==\n");
    figure("N2 1KiB p50: app-thread minus loop-thread set()", g_figures[app] - g_figures[loop], "us");
  }
  if (cfg.delta_only) cfg.mdns = false;
  if (cfg.mdns) runMdns(exe, cfg, false);
  if (cfg.mdns && !cfg.mdns_netns.empty()) runMdns(exe, cfg, true);
  printRatios(cfg);
  std::printf("\nbenchmark finished in %.1f s\n", (monoNs() - t0) / 1e9);
  return 0;
}
