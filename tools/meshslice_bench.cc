// meshslice_bench: end-to-end figures of a mesh of node processes on 127.0.0.1, with the
// baselines of the same run (raw TCP from tcp_baseline, js-libp2p gossipsub) and their ratios.
//
//   meshslice_bench [--quick] [--nodes 2,4,8,16,32] [--sizes 64,1024,65536] [--stores 16]
//                   [--libp2p DIR] [--no-baselines]
//   meshslice_bench --child ...     one node process (tools/bench_node.h)
//
// Per N: mesh formation, RSS per connected peer, slice propagation p50/p99/p999 (set() on
// node 0 until applied on the others, paced at 1,000/s, one CLOCK_MONOTONIC), fan-out
// throughput (slice updates/s applied across the N-1 receivers) with CPU time per delivered
// update, join-to-synced of a newcomer, eviction after a graceful stop and after kill -9;
// once: 64 KiB bus bulk throughput, a silent (SIGSTOPped) peer, and mDNS start-to-link on lo
// (private port). Every wait is bounded; a full run takes a few minutes, --quick under a minute.
#include <cmath>
#include <cstring>
#include <map>

#include "base/log.h"
#include "tools/bench_node.h"

using namespace meshslice;
using namespace meshslice::bench;

namespace {

struct Config {
  bool quick = false;
  std::vector<size_t> nodes{2, 4, 8, 16, 32};
  std::vector<size_t> sizes{64, 1024, 65536};
  size_t stores = 16;
  // Throughput bursts write round-robin over these: more stores than writes per 1 ms tick, so
  // what is measured is the pipeline, not coalescing of a store's superseded versions.
  size_t tput_stores = 512;
  size_t lat_count = 3000, lat_rate = 1000;
  double burst_seconds = 2;
  int mdns_trials = 10;
  std::string libp2p_dir;
  bool baselines = true;
};

std::map<std::string, double> g_figures;  // name -> value, for the ratio table
void figure(const std::string& name, double value, const char* unit) {
  g_figures[name] = value;
  std::printf("  %-44s %12.1f %s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}

// Lets children print for `ms` while we wait.
void idle(std::vector<Child>& kids, int ms) {
  std::vector<Child*> p;
  for (auto& k : kids) p.push_back(&k);
  pumpUntil(p, [] { return false; }, ms);
}

class Mesh {
 public:
  Mesh(const Config& cfg, std::string exe, std::string invite) : cfg_(cfg), exe_(std::move(exe)), invite_(std::move(invite)) {
    kids.reserve(40);  // Child* handed out stay valid: at most 32 nodes + a newcomer
  }
  ~Mesh() {
    for (auto& k : kids) reap(k, true);
  }
  std::vector<Child> kids;
  std::vector<std::string> addrs, ids;

  // Adds a node dialing every node before it; waits for LISTEN.
  Child* add(size_t expect, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--child", "--name", "n" + std::to_string(kids.size()), "--invite", invite_,
                                  "--stores", std::to_string(cfg_.stores), "--tput-stores", std::to_string(cfg_.tput_stores),
                                  "--expect", std::to_string(expect)};
    for (const auto& a : addrs) args.insert(args.end(), {"--peer", a});
    args.insert(args.end(), extra.begin(), extra.end());
    kids.push_back(spawnChild(exe_, args));
    std::string line;
    if (!expectLine(kids.back(), "LISTEN ", &line, 10000)) return nullptr;
    std::istringstream in(line.substr(7));
    std::string addr, id;
    in >> addr >> id;
    addrs.push_back(addr);
    ids.push_back(id);
    return &kids.back();
  }
  std::vector<Child*> all(size_t from = 0) {
    std::vector<Child*> p;
    for (size_t i = from; i < kids.size(); ++i)
      if (kids[i].alive) p.push_back(&kids[i]);
    return p;
  }
  // Waits until each of `who` printed a line with `prefix`; returns them (empty on timeout).
  std::vector<std::string> collect(const std::vector<Child*>& who, const std::string& prefix, int timeout_ms) {
    std::vector<std::string> got(who.size());
    std::vector<bool> have(who.size(), false);
    size_t n = 0;
    bool ok = pumpUntil(all(), [&] {
      for (size_t i = 0; i < who.size(); ++i)
        if (!have[i] && takeLine(*who[i], prefix, &got[i])) have[i] = true, ++n;
      return n == who.size();
    }, timeout_ms);
    return ok ? got : std::vector<std::string>{};
  }
  void dropLines() {
    for (auto& k : kids) k.lines.clear();
  }

 private:
  const Config& cfg_;
  std::string exe_, invite_;
};

std::string sizeName(size_t s) { return s >= 1024 ? std::to_string(s / 1024) + "KiB" : std::to_string(s) + "B"; }

// set() on node 0 (`cmd`: "lat" from another thread of the process, "latloop" on its loop
// thread) until applied on the others.
void latency(Mesh& m, size_t n, size_t size, const Config& cfg, const std::string& cmd = "lat") {
  m.dropLines();
  tell(m.kids[0], cmd + " " + std::to_string(size) + " " + std::to_string(cfg.lat_count) + " " + std::to_string(cfg.lat_rate));
  if (m.collect({&m.kids[0]}, "SENT", static_cast<int>(cfg.lat_count * 1000 / cfg.lat_rate) + 20000).empty()) return;
  idle(m.kids, 200);
  auto receivers = m.all(1);
  for (Child* c : receivers) tell(*c, "report");
  auto reports = m.collect(receivers, "REPORT", 10000);
  std::vector<double> p50, p99, p999;
  for (auto& r : reports) {
    if (field(r, "lat_n") == 0) continue;
    p50.push_back(field(r, "p50_us"));
    p99.push_back(field(r, "p99_us"));
    p999.push_back(field(r, "p999_us"));
  }
  if (p50.empty()) return;
  std::string k = "N" + std::to_string(n) + " " + sizeName(size) + (cmd == "lat" ? "" : " loop-thread set()") + " latency ";
  figure(k + "p50 (median receiver)", median(p50), "us");
  figure(k + "p99 (worst receiver)", *std::max_element(p99.begin(), p99.end()), "us");
  figure(k + "p999 (worst receiver)", *std::max_element(p999.begin(), p999.end()), "us");
}

std::string rateName(size_t rate) { return rate ? std::to_string(rate / 1000) + "k/s" : "max"; }

// Node 0 writes `rate` updates/s (0: as fast as its thread can) of `size` bytes, spread over
// its throughput stores; the others count what they apply.
void throughput(Mesh& m, size_t n, size_t size, size_t rate, const Config& cfg) {
  m.dropLines();
  std::vector<double> cpu0;
  for (auto& k : m.kids) cpu0.push_back(cpuSeconds(k.pid));
  tell(m.kids[0], "burst " + std::to_string(size) + " " + std::to_string(cfg.burst_seconds) + " " + std::to_string(rate));
  auto sent = m.collect({&m.kids[0]}, "SENT", static_cast<int>(cfg.burst_seconds * 1000) + 20000);
  if (sent.empty()) return;
  idle(m.kids, 500);  // let the last frames land
  double cpu = 0;
  for (size_t i = 0; i < m.kids.size(); ++i) cpu += cpuSeconds(m.kids[i].pid) - cpu0[i];
  auto receivers = m.all(1);
  for (Child* c : receivers) tell(*c, "report");
  auto reports = m.collect(receivers, "REPORT", 10000);
  double delivered = 0;
  for (auto& r : reports) delivered += field(r, "tput_n");
  size_t left = 0;
  for (auto& k : m.kids)
    for (auto& l : k.lines) left += l.rfind("LEFT", 0) == 0;
  // Rates over the send window: what the receivers applied of what node 0 wrote meanwhile.
  const double secs = cfg.burst_seconds;
  std::string k = "N" + std::to_string(n) + " " + sizeName(size) + " @" + rateName(rate) + " ";
  figure(k + "set()/s node 0", field(sent[0], "n") / secs, "/s");
  figure(k + "applied/s (sum of receivers)", delivered / secs, "/s");
  if (size >= 1024) figure(k + "applied MB/s (sum of receivers)", delivered * static_cast<double>(size) / secs / 1e6, "MB/s");
  figure(k + "CPU per applied update (all nodes)", cpu / std::max(delivered, 1.0) * 1e6, "us");
  if (left) figure(k + "FALSE EVICTIONS during burst", static_cast<double>(left), "");
}

void bulk(Mesh& m, const Config& cfg) {
  m.dropLines();
  tell(m.kids[0], "bulk 65536 " + std::to_string(cfg.burst_seconds));
  if (m.collect({&m.kids[0]}, "SENT", static_cast<int>(cfg.burst_seconds * 1000) + 20000).empty()) return;
  idle(m.kids, 500);
  tell(m.kids[1], "report");
  auto r = m.collect({&m.kids[1]}, "REPORT", 10000);
  if (r.empty()) return;
  double secs = (field(r[0], "bulk_last") - field(r[0], "bulk_first")) / 1e9;
  if (secs > 0) figure("N2 64KiB bus messages MB/s (encrypted)", field(r[0], "bulk_bytes") / secs / 1e6, "MB/s");
}

// Median and max delay of the survivors' LEFT lines about `victim` after `t0`.
void evictions(Mesh& m, const std::string& victim, int64_t t0, const std::string& name, int timeout_ms) {
  std::vector<Child*> survivors;
  for (auto& k : m.kids)
    if (k.alive && &k != &m.kids.back()) survivors.push_back(&k);
  auto lines = m.collect(survivors, "LEFT " + victim, timeout_ms);
  if (lines.empty()) {
    std::printf("  %-44s did not happen within %d ms\n", name.c_str(), timeout_ms);
    return;
  }
  std::vector<double> ms;
  for (auto& l : lines) ms.push_back((field(l, "ns") - static_cast<double>(t0)) / 1e6);
  figure(name + " median", median(ms), "ms");
  figure(name + " max", *std::max_element(ms.begin(), ms.end()), "ms");
}

void runMesh(const std::string& exe, const Config& cfg, size_t n, std::vector<std::pair<size_t, double>>& rss) {
  std::printf("\n== N=%zu nodes, %zu stores each ==\n", n, cfg.stores);
  Mesh m(cfg, exe, MeshSecret::generate().toInvite());
  const int64_t t0 = monoNs();
  for (size_t i = 0; i < n; ++i)
    if (!m.add((n - 1) * cfg.stores)) return void(std::printf("  node %zu did not start\n", i));
  if (m.collect(m.all(), "SYNCED", 30000).empty()) return void(std::printf("  mesh did not sync\n"));
  figure("N" + std::to_string(n) + " mesh formed and synced (from first spawn)", (monoNs() - t0) / 1e6, "ms");
  idle(m.kids, 500);
  double total = 0;
  for (auto& k : m.kids) total += static_cast<double>(rssKb(k.pid));
  rss.push_back({n, total / static_cast<double>(n)});
  figure("N" + std::to_string(n) + " RSS per node", total / static_cast<double>(n), "KiB");

  const bool pair = n == 2;
  for (size_t size : cfg.sizes)
    if (pair || size == 1024) latency(m, n, size, cfg);
  if (pair)
    for (size_t size : cfg.sizes) latency(m, n, size, cfg, "latloop");
  for (size_t size : cfg.sizes) {
    if (!pair && size != 1024) continue;
    std::vector<size_t> rates = size >= 65536 ? std::vector<size_t>{1000, 5000, 0}
                                              : std::vector<size_t>{10000, 50000, 100000, 200000, 0};
    if (cfg.quick || !pair) rates = size >= 65536 ? std::vector<size_t>{1000, 0} : std::vector<size_t>{10000, 100000, 0};
    for (size_t rate : rates) throughput(m, n, size, rate, cfg);
  }
  if (pair) bulk(m, cfg);
  idle(m.kids, 300);

  // A newcomer that knows every address (as discovery would tell it) joins the synced mesh.
  m.dropLines();
  Child* c = m.add(n * cfg.stores);
  if (!c) return;
  auto synced = m.collect({c}, "SYNCED", 20000);
  if (!synced.empty()) {
    figure("N" + std::to_string(n) + " join-to-synced from process spawn", (field(synced[0], "ns") - c->spawned_ns) / 1e6, "ms");
    std::string listen;
    for (auto& l : c->lines)
      if (listen.empty() && l.rfind("JOINED", 0) == 0) listen = l;
    figure("N" + std::to_string(n) + " join-to-synced from first link", (field(synced[0], "ns") - field(listen.empty() ? synced[0] : listen, "ns")) / 1e6, "ms");
  }
  const std::string newcomer = m.ids.back();
  int64_t t_quit = monoNs();
  tell(*c, "quit");
  evictions(m, newcomer, t_quit, "N" + std::to_string(n) + " graceful stop -> peers evict", 5000);
  reap(*c, false);
  m.kids.pop_back();
  m.addrs.pop_back();
  m.ids.pop_back();

  if (n >= 2) {
    m.dropLines();
    const std::string victim = m.ids.back();
    int64_t t_kill = monoNs();
    kill(m.kids.back().pid, SIGKILL);
    evictions(m, victim, t_kill, "N" + std::to_string(n) + " kill -9 -> peers evict", 5000);
    reap(m.kids.back(), false);
    m.kids.pop_back();
    m.addrs.pop_back();
    m.ids.pop_back();
  }
  if (!cfg.quick && n == 4) {
    m.dropLines();
    const std::string victim = m.ids.back();
    int64_t t_stop = monoNs();
    kill(m.kids.back().pid, SIGSTOP);
    evictions(m, victim, t_stop, "N4 silent peer (SIGSTOP) -> peers evict", 8000);
    reap(m.kids.back(), true);
    m.kids.pop_back();
  }
  for (auto& k : m.kids) tell(k, "quit");
  m.collect(m.all(), "STOPPED", 10000);
  for (auto& k : m.kids) reap(k, false);
  m.kids.clear();
}

// Issue 7: from a node's process start to an encrypted link with an already running peer,
// found by mDNS on lo (private port), and from its graceful stop to that peer dropping it.
void runMdns(const std::string& exe, const Config& cfg) {
  std::printf("\n== mDNS discovery on lo (private port) ==\n");
  Config c1 = cfg;
  c1.stores = 1;
  Mesh m(c1, exe, MeshSecret::generate().toInvite());
  const std::string port = std::to_string(20000 + getpid() % 20000);
  if (!m.add(0, {"--mdns-port", port})) return;
  m.addrs.clear();  // newcomers must find it by mDNS, not by address
  idle(m.kids, 1500);  // the running peer finished probing and announcing
  std::vector<double> link_ms, stop_ms;
  for (int i = 0; i < cfg.mdns_trials; ++i) {
    m.dropLines();
    Child* b = m.add(0, {"--mdns-port", port});
    m.addrs.clear();
    if (!b) break;
    auto j = m.collect({b}, "JOINED", 5000);
    if (j.empty()) {
      std::printf("  trial %d: no link within 5 s\n", i);
    } else {
      link_ms.push_back((field(j[0], "ns") - b->spawned_ns) / 1e6);
    }
    m.collect({&m.kids[0]}, "JOINED", 5000);
    int64_t t = monoNs();
    tell(*b, "quit");
    auto left = m.collect({&m.kids[0]}, "LEFT", 5000);
    if (!left.empty()) stop_ms.push_back((field(left[0], "ns") - t) / 1e6);
    reap(*b, false);
    m.kids.pop_back();
    m.ids.pop_back();
  }
  if (!link_ms.empty()) {
    figure("mDNS: process start -> encrypted link median", median(link_ms), "ms");
    figure("mDNS: process start -> encrypted link max", *std::max_element(link_ms.begin(), link_ms.end()), "ms");
  }
  if (!stop_ms.empty()) figure("mDNS: graceful stop -> peer drops it median", median(stop_ms), "ms");
  tell(m.kids[0], "quit");
  m.collect(m.all(), "STOPPED", 5000);
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

void runBaselines(const std::string& exe, const Config& cfg) {
  std::printf("\n== baselines (same run) ==\n");
  std::string dir = exe.substr(0, exe.rfind('/'));
  std::string sizes;
  for (size_t s : cfg.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  std::string out = run(dir + "/tcp_baseline --sizes " + sizes + " --count " + std::to_string(cfg.lat_count) +
                        " --rate " + std::to_string(cfg.lat_rate) + " --seconds " + std::to_string(cfg.burst_seconds));
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    std::string size = sizeName(static_cast<size_t>(field(l, "size")));
    if (l.rfind("RTT", 0) == 0) {
      std::string k = "raw TCP " + size + (field(l, "rate") > 0 ? " paced" : " back-to-back") + " RTT ";
      figure(k + "p50", field(l, "p50_us"), "us");
      figure(k + "p99", field(l, "p99_us"), "us");
      if (field(l, "rate") > 0) figure("raw TCP " + size + " paced one-way p50", field(l, "oneway_p50_us"), "us");
    } else if (l.rfind("TPUT", 0) == 0) {
      figure("raw TCP " + size + " msgs/s", field(l, "msgs_per_s"), "/s");
      figure("raw TCP " + size + " MB/s", field(l, "mb_per_s"), "MB/s");
    }
  }
  if (cfg.libp2p_dir.empty()) return;
  std::string js = run("cd '" + cfg.libp2p_dir + "' && timeout 300 node gossip_bench.mjs --size 1024 --count " +
                       std::to_string(cfg.quick ? 500 : 2000) + " --rate 100 --seconds " +
                       std::to_string(cfg.burst_seconds) + " 2>/dev/null");
  auto num = [&](const std::string& key) {
    size_t p = js.find("\"" + key + "\":");
    return p == std::string::npos ? -1.0 : std::strtod(js.c_str() + p + key.size() + 3, nullptr);
  };
  if (num("p50_us") < 0) {
    std::printf("  js-libp2p gossipsub: no result (run npm ci in %s)\n", cfg.libp2p_dir.c_str());
    return;
  }
  figure("js-libp2p gossipsub 1KiB latency p50 (100/s)", num("p50_us"), "us");
  figure("js-libp2p gossipsub 1KiB latency p99 (100/s)", num("p99_us"), "us");
  figure("js-libp2p gossipsub 1KiB msgs/s", num("msgs_per_s"), "/s");
}

void ratio(const std::string& name, const std::string& a, const std::string& b, const std::string& target) {
  if (!g_figures.count(a) || !g_figures.count(b) || g_figures[b] == 0) return;
  std::printf("  %-58s %8.2f   (target %s)\n", name.c_str(), g_figures[a] / g_figures[b], target.c_str());
}

void printRatios() {
  std::printf("\n== ratios ==\n");
  g_figures["one ms"] = 1000;
  ratio("1KiB propagation p50 / raw TCP 1KiB RTT p50 (both paced)", "N2 1KiB latency p50 (median receiver)",
        "raw TCP 1KiB paced RTT p50", "<= 1.5");
  ratio("  same, set() on the node's loop thread", "N2 1KiB loop-thread set() latency p50 (median receiver)",
        "raw TCP 1KiB paced RTT p50", "<= 1.5");
  ratio("1KiB propagation p50 / raw TCP 1KiB one-way p50", "N2 1KiB latency p50 (median receiver)",
        "raw TCP 1KiB paced one-way p50", "-");
  ratio("1KiB propagation p99 at 1,000/s (ms)", "N2 1KiB latency p99 (worst receiver)", "one ms", "< 1");
  ratio("64KiB encrypted bus MB/s / raw TCP 64KiB MB/s", "N2 64KiB bus messages MB/s (encrypted)",
        "raw TCP 64KiB MB/s", ">= 0.60");
  ratio("1KiB slice updates/s N2 (max) / raw TCP 1KiB msgs/s", "N2 1KiB @max applied/s (sum of receivers)",
        "raw TCP 1KiB msgs/s", "-");
  ratio("js-libp2p 1KiB p50 / meshslice 1KiB p50", "js-libp2p gossipsub 1KiB latency p50 (100/s)",
        "N2 1KiB latency p50 (median receiver)", ">= 10");
  ratio("js-libp2p 1KiB p99 / meshslice 1KiB p99", "js-libp2p gossipsub 1KiB latency p99 (100/s)",
        "N2 1KiB latency p99 (worst receiver)", ">= 10");
  ratio("meshslice 1KiB updates/s (max) / js-libp2p msgs/s", "N2 1KiB @max applied/s (sum of receivers)",
        "js-libp2p gossipsub 1KiB msgs/s", ">= 10");
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
  auto list = [](const std::string& s) {
    std::vector<size_t> v;
    std::istringstream in(s);
    for (std::string x; std::getline(in, x, ',');) v.push_back(std::stoul(x));
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--child") child = true;
    else if (a == "--quick") cfg.quick = true;
    else if (a == "--no-baselines") cfg.baselines = false;
    else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      if (a == "--peer") peers.push_back(argv[++i]);
      else flags[a.substr(2)] = argv[++i];
    } else {
      std::fprintf(stderr, "usage: meshslice_bench [--quick] [--nodes 2,4,..] [--sizes 64,..] [--libp2p DIR]\n");
      return 2;
    }
  }
  if (child) return BenchNode(flags, peers).run();
  signal(SIGPIPE, SIG_IGN);
  if (cfg.quick) {
    cfg.nodes = {2, 4};
    cfg.lat_count = 1000;
    cfg.burst_seconds = 1;
    cfg.mdns_trials = 3;
  }
  if (flags.count("nodes")) cfg.nodes = list(flags["nodes"]);
  if (flags.count("sizes")) cfg.sizes = list(flags["sizes"]);
  if (flags.count("stores")) cfg.stores = std::stoul(flags["stores"]);
  if (flags.count("libp2p")) cfg.libp2p_dir = flags["libp2p"];
  for (size_t n : cfg.nodes)
    if (n < 2 || n > 32) return std::fprintf(stderr, "meshslice_bench: N must be 2..32\n"), 2;
  const std::string exe = selfExe();
  const int64_t t0 = monoNs();
  std::vector<std::pair<size_t, double>> rss;
  for (size_t n : cfg.nodes) runMesh(exe, cfg, n, rss);
  if (rss.size() >= 2 && rss.back().first > rss.front().first) {
    std::printf("\n== memory ==\n");
    figure("RSS per connected peer ((RSS(Nmax)-RSS(Nmin))/(Nmax-Nmin))",
           (rss.back().second - rss.front().second) / static_cast<double>(rss.back().first - rss.front().first), "KiB");
  }
  runMdns(exe, cfg);
  if (cfg.baselines) runBaselines(exe, cfg);
  printRatios();
  std::printf("\nbenchmark finished in %.1f s\n", (monoNs() - t0) / 1e9);
  return 0;
}
