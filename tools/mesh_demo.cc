// mesh_demo: the project's main demo. It starts N node processes on 127.0.0.1 that share one
// mesh secret (an invite), each owning a "presence" slice; every node prints the converged view
// of all devices. Then one node changes its status, one is killed with SIGKILL (the others evict
// its slice) and the rest stop gracefully (goodbyes). Loopback only; every wait is bounded.
//
//   mesh_demo [--nodes N] [--static]      run the demo (default 3 nodes, discovery by mDNS on lo;
//                                         --static: each node is given the earlier ones' addresses)
//   mesh_demo --child ...                 one node (used by the demo and by process tests);
//                                         reads commands on stdin (set, burst, view, peers,
//                                         addresses, stats, quit, and for a large raw slice in
//                                         store "doc": docinit SIZE, docedit N, docview),
//                                         prints events on stdout.
//     --name N --invite I [--expect K] [--peer ADDR]... [--listen ADDR] [--state-dir DIR]
//     [--mdns IFACE [--mdns-port P] [--mdns-scan-ms MS]] [--liveness-ms MS]
//     [--rate-limit ENVELOPES_PER_S] [--persist]
//     (--persist, with --state-dir: the presence slice is saved in DIR/presence.slice, so a
//     restarted node continues its versions; process tests restart nodes with it)
//     (--mdns '*': every multicast interface that is up, following interfaces that come and
//     go every --mdns-scan-ms, default 5000; tests run it only inside network namespaces)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "base/log.h"
#include "store/file_persistence.h"
#include "store/mesh_slice.h"
#include "store/synced_store.h"

using namespace meshslice;

namespace {

struct Presence {
  std::string name;
  std::string status;
  uint64_t counter = 0;
  MSGPACK_DEFINE(name, status, counter);
};

std::mutex g_out;
void emit(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_out);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// A whole decimal number in [lo, hi], or nothing: bad flags get a message, not an exception.
std::optional<uint64_t> parseNumber(const std::string& text, uint64_t lo, uint64_t hi) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

// The "doc" store of a child: one large raw slice per node, edited at random (bytes
// overwritten, inserted or deleted, up to 300 each), so that its versions travel as deltas.
// docview prints the BLAKE2b-256 of every held value: byte-exact checks across processes.
class DocSlice {
 public:
  DocSlice(const DeviceId& self, const std::string& name)
      : store_("doc", self), rng_(std::hash<std::string>{}(name + std::to_string(::getpid()))) {}
  RawStore& store() { return store_; }
  // Command thread; returns the line to print.
  std::string command(const std::string& cmd, const std::string& arg) {
    if (cmd == "docinit") {
      value_.resize(std::min<size_t>(parseNumber(arg, 1, kMaxSliceData).value_or(4096), kMaxSliceData));
      for (auto& b : value_) b = static_cast<uint8_t>(rng_());
    } else if (cmd == "docedit") {
      if (value_.empty()) return "ERROR docinit first";
      for (uint64_t i = 0; i < parseNumber(arg, 1, 1000).value_or(1); ++i) edit();
    } else {  // docview
      std::string out = "DOCS";
      if (auto own = store_.get(store_.localDevice())) out += " self=" + digestHex(*own);
      for (const DeviceSlice& s : store_.remoteSlices()) out += " " + s.device_id.shortString() + "=" + digestHex(s.data);
      return out;
    }
    Status st = store_.set(value_);
    return st.isOk() ? "DOCSET " + digestHex(value_) : "ERROR " + st.toString();
  }

 private:
  static std::string digestHex(ByteView data) {
    const SliceDigest d = sliceDigest(data);
    return toHex(ByteView(d.data(), 8));
  }
  void edit() {
    const size_t at = rng_() % value_.size(), n = 1 + rng_() % 300;
    switch (rng_() % 3) {
      case 0:
        for (size_t i = at; i < std::min(value_.size(), at + n); ++i) value_[i] = static_cast<uint8_t>(rng_());
        break;
      case 1:
        if (value_.size() + n > kMaxSliceData) break;
        for (size_t i = 0; i < n; ++i) value_.insert(value_.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(rng_()));
        break;
      default:
        if (value_.size() > n) value_.erase(value_.begin() + static_cast<ptrdiff_t>(at),
                                            value_.begin() + static_cast<ptrdiff_t>(std::min(value_.size(), at + n)));
    }
  }
  RawStore store_;
  Bytes value_;
  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------- child: one node process
int runChild(const std::map<std::string, std::string>& flags, const std::vector<std::string>& peers) {
  // libuv writes to TCP sockets with write(): a peer that resets a link mid-write raised SIGPIPE
  // and killed this process (found by the LAN churn test). The node's loop thread now blocks
  // it; the process ignores it too, for writes from any other thread.
  signal(SIGPIPE, SIG_IGN);
  if (flags.count("print-invite")) {
    emit(MeshSecret::generate().toInvite());
    return 0;
  }
  std::string name = flags.count("name") ? flags.at("name") : "node";
  std::map<std::string, uint64_t> numbers;  // numeric flags, checked up front
  for (auto [flag, lo, hi] : {std::tuple<const char*, uint64_t, uint64_t>{"expect", 0, 1024},
                              {"liveness-ms", 10, 3600 * 1000}, {"mdns-port", 1, 65535},
                              {"mdns-scan-ms", 50, 3600 * 1000},
                              {"rate-limit", 1, 10'000'000}}) {
    if (!flags.count(flag)) continue;
    auto v = parseNumber(flags.at(flag), lo, hi);
    if (!v) {
      std::fprintf(stderr, "mesh_demo: --%s must be a number from %llu to %llu\n", flag,
                   static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi));
      return 2;
    }
    numbers[flag] = *v;
  }
  size_t expect = numbers.count("expect") ? numbers["expect"] : 0;
  auto secret = MeshSecret::fromInvite(flags.count("invite") ? flags.at("invite") : "");
  if (!secret) {
    std::fprintf(stderr, "mesh_demo: %s\n", secret.status().toString().c_str());
    return 2;
  }
  MeshNodeOptions opts;
  opts.mesh.static_peers = peers;
  if (numbers.count("liveness-ms")) opts.mesh.liveness_timeout = static_cast<Micros>(numbers["liveness-ms"]) * kMillis;
  if (flags.count("listen")) opts.mesh.listen_address = flags.at("listen");
  if (numbers.count("rate-limit")) {  // envelopes per second (and burst) each peer may send us
    opts.mesh.rate_limit.messages_per_second = static_cast<double>(numbers["rate-limit"]);
    opts.mesh.rate_limit.message_burst = static_cast<double>(numbers["rate-limit"]);
  }
  if (flags.count("mdns")) {  // one named interface (tests: lo or a namespace veth), or '*'
    opts.mdns = true;
    if (flags.at("mdns") != "*") opts.mdns_options.interfaces = {flags.at("mdns")};
    if (numbers.count("mdns-port")) opts.mdns_options.port = static_cast<uint16_t>(numbers["mdns-port"]);
    if (numbers.count("mdns-scan-ms"))
      opts.mdns_options.interface_scan_interval = static_cast<Micros>(numbers["mdns-scan-ms"]) * kMillis;
  }
  // With --state-dir the identity survives restarts (process tests restart a node as itself).
  Result<Identity> ident = flags.count("state-dir") ? Identity::loadOrCreate(flags.at("state-dir"), name)
                                                    : Result<Identity>(Identity::generate(name));
  if (!ident) {
    std::fprintf(stderr, "mesh_demo: %s\n", ident.status().toString().c_str());
    return 1;
  }
  StoreOptions store_options;
  if (flags.count("persist") && flags.count("state-dir"))
    store_options.persistence = std::make_shared<FilePersistence>(flags.at("state-dir") + "/presence.slice", "presence");
  auto opened = SyncedStore<Presence>::open("presence", ident->deviceId(), std::move(store_options));
  if (!opened) {
    std::fprintf(stderr, "mesh_demo: %s\n", opened.status().toString().c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  auto doc = std::make_unique<DocSlice>(ident->deviceId(), name);
  bool converged = false;
  auto listener = store->listen([&](const SyncedStore<Presence>::Event& e) {
    if (auto* u = std::get_if<SyncedStore<Presence>::PeerUpdated>(&e)) {
      emit("UPDATED " + u->device.shortString() + " " + u->value.name + " " + u->value.status);
    } else if (auto* r = std::get_if<SyncedStore<Presence>::PeerRemoved>(&e)) {
      emit("REMOVED " + r->device.shortString() + " " + leaveReasonName(r->reason));
    }
    if (!converged && expect && store->all().size() == expect) {
      converged = true;
      emit("CONVERGED " + std::to_string(expect));
    }
  });
  // Declared after the stores, so it lets go of them before they die (store/mesh_slice.h).
  MeshSliceOptions mesh_options;
  mesh_options.node = opts;
  MeshSlice node(std::move(ident).value(), secret.value(), mesh_options);
  Status st = node.addStore(doc->store());
  if (st.isOk()) st = node.addStore(*store);
  if (st.isOk()) st = node.start();
  if (!st.isOk()) {
    std::fprintf(stderr, "mesh_demo: %s\n", st.toString().c_str());
    return 1;
  }
  emit("LISTEN " + node.listenAddress() + " " + node.id().toString());
  uint64_t counter = 0;
  if (!store->set(Presence{name, "online", ++counter}).isOk()) return 1;
  std::string line;
  while (std::getline(std::cin, line)) {  // commands from the parent or a test
    std::istringstream in(line);
    std::string cmd, arg;
    in >> cmd >> arg;
    if (cmd == "set") {
      Status s = store->set(Presence{name, arg, ++counter});
      emit(s.isOk() ? "SET " + arg : "ERROR " + s.toString());
    } else if (cmd == "burst") {  // many rapid writes; the last one is "final<N>"
      auto count = parseNumber(arg, 1, 10'000'000);
      if (!count) {
        emit("ERROR burst needs a count from 1 to 10000000");
        continue;
      }
      uint64_t n = *count;
      for (uint64_t i = 1; i <= n; ++i) store->set(Presence{name, i == n ? "final" + arg : "b" + std::to_string(i), ++counter}).ignore();
      emit("BURST " + arg);
    } else if (cmd == "docinit" || cmd == "docedit" || cmd == "docview") {
      emit(doc->command(cmd, arg));
    } else if (cmd == "view") {
      std::string out = "VIEW";
      for (auto& [id, p] : store->all()) out += " " + id.shortString() + "=" + p.name + ":" + p.status;
      emit(out);
    } else if (cmd == "stats") {  // counters for reliability tests: "STATS key=value ..."
      emit(node.call([&](MeshCore& core) {
        const MeshStats& m = core.stats();
        const SyncStats& y = node.syncAdapter()->stats();
        std::ostringstream out;
        out << "STATS handshakes_failed=" << m.handshakes_failed << " protocol_errors=" << m.protocol_errors
            << " refused_pending=" << m.links_refused_pending_limit << " rate_limited=" << m.messages_rate_limited
            << " flood_disconnects=" << m.peers_disconnected_flooding << " spoofed=" << y.slices_spoofed
            << " malformed=" << y.malformed << " applied=" << y.slices_applied << " peers=" << core.connectedPeers().size()
            << " deltas_sent=" << y.deltas_sent << " deltas_applied=" << y.deltas_applied
            << " deltas_refused=" << y.deltas_refused << " delta_refusals_received=" << y.delta_refusals_received
            << " repairs=" << y.repairs << " repairs_refused=" << y.repairs_refused
            << " implausible=" << y.versions_implausible << " version=" << store->localSlice().version;
        return out.str();
      }));
    } else if (cmd == "peers") {
      emit("PEERS " + std::to_string(node.peers().size()));
    } else if (cmd == "addresses") {  // "ADDRESSES <short id>=<link's remote address> ..."
      std::string out = "ADDRESSES";
      for (const auto& p : node.peers()) out += " " + p.id.shortString() + "=" + p.address;
      emit(out);
    } else if (cmd == "quit") {
      break;
    }
  }
  node.stop();
  emit("STOPPED");
  return 0;
}

// ---------------------------------------------------------------- parent: the demo
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string buffer, name, addr, id;
  bool alive = true;
};

Child spawn(const std::string& self, std::vector<std::string> args) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) std::exit(1);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    std::vector<char*> argv{const_cast<char*>(self.c_str())};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  c.in = to_child[1];
  c.out = from_child[0];
  return c;
}

// Reads lines from every live child until `done` says stop or `timeout_ms` passes.
bool pump(std::vector<Child>& kids, const std::function<bool(Child&, const std::string&)>& on_line,
          const std::function<bool()>& done, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) return false;
    std::vector<pollfd> fds;
    for (auto& k : kids) fds.push_back({k.alive ? k.out : -1, POLLIN, 0});
    if (poll(fds.data(), fds.size(), left) < 0) return false;
    for (size_t i = 0; i < kids.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(kids[i].out, buf, sizeof buf);
      if (n <= 0) {
        kids[i].alive = false;
        continue;
      }
      kids[i].buffer.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = kids[i].buffer.find('\n')) != std::string::npos) {
        std::string line = kids[i].buffer.substr(0, nl);
        kids[i].buffer.erase(0, nl + 1);
        if (!on_line(kids[i], line)) return false;
      }
    }
  }
  return true;
}

void tell(Child& c, const std::string& cmd) {
  std::string line = cmd + "\n";
  if (write(c.in, line.data(), line.size()) < 0) c.alive = false;
}

int fail(std::vector<Child>& kids, const std::string& why) {
  std::fprintf(stderr, "mesh_demo: FAILED: %s\n", why.c_str());
  for (auto& k : kids) kill(k.pid, SIGKILL);
  for (auto& k : kids) waitpid(k.pid, nullptr, 0);
  return 1;
}

// How demo nodes find each other: mDNS/DNS-SD on the loopback interface only (multicast pinned to
// 127.0.0.1, on a private port so a responder on this host is not disturbed), or a static list.
enum class Discovery { kMdns, kStatic };

int runDemo(const std::string& self, size_t n, Discovery discovery) {
  signal(SIGPIPE, SIG_IGN);
  std::string invite = MeshSecret::generate().toInvite();
  const std::string mdns_port = std::to_string(20000 + getpid() % 20000);
  if (discovery == Discovery::kMdns) {
    std::printf("meshslice demo: %zu nodes on 127.0.0.1 finding each other by mDNS on lo (port %s),\n"
                "encrypted links (Noise XXpsk3); mesh invite %s\n\n", n, mdns_port.c_str(), invite.c_str());
  } else {
    std::printf("meshslice demo: %zu nodes on 127.0.0.1 with static peers, encrypted links (Noise XXpsk3);\n"
                "mesh invite %s\n\n", n, invite.c_str());
  }
  std::vector<Child> kids;
  std::vector<std::string> addrs;
  auto t0 = std::chrono::steady_clock::now();
  auto ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  };
  std::map<std::string, std::string> names;  // short id -> name
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> args{"--child", "--name", "node-" + std::to_string(i), "--invite", invite,
                                  "--expect", std::to_string(n)};
    if (discovery == Discovery::kMdns) {
      args.insert(args.end(), {"--mdns", "lo", "--mdns-port", mdns_port});
    } else {
      for (auto& a : addrs) args.insert(args.end(), {"--peer", a});
    }
    kids.push_back(spawn(self, args));
    kids.back().name = "node-" + std::to_string(i);
    bool ok = pump(kids, [&](Child& c, const std::string& l) {
      if (l.rfind("LISTEN ", 0) == 0) {
        std::istringstream in(l.substr(7));
        in >> c.addr >> c.id;
        names[c.id.substr(0, 9)] = c.name;
      }
      return true;
    }, [&] { return !kids.back().addr.empty(); }, 5000);
    if (!ok) return fail(kids, kids.back().name + " did not start");
    addrs.push_back(kids.back().addr);
    std::printf("  started %-7s %s  at %s\n", kids.back().name.c_str(), kids.back().id.c_str(), kids.back().addr.c_str());
  }
  size_t converged = 0;
  if (!pump(kids, [&](Child&, const std::string& l) {
        if (l.rfind("CONVERGED", 0) == 0) ++converged;
        return true;
      }, [&] { return converged == n; }, 10000))
    return fail(kids, "nodes did not converge");
  std::printf("\nall %zu nodes converged after %lld ms; each node's view:\n", n, static_cast<long long>(ms()));
  auto showViews = [&] {
    size_t views = 0;
    for (auto& k : kids) if (k.alive) tell(k, "view");
    size_t want = 0;
    for (auto& k : kids) want += k.alive;
    return pump(kids, [&](Child& c, const std::string& l) {
      if (l.rfind("VIEW", 0) != 0) return true;
      ++views;
      std::string pretty;
      std::istringstream in(l.substr(4));
      std::string item;
      while (in >> item) pretty += "  " + item.substr(item.find('=') + 1);
      std::printf("  %-7s sees:%s\n", c.name.c_str(), pretty.c_str());
      return true;
    }, [&] { return views == want; }, 5000);
  };
  if (!showViews()) return fail(kids, "no views");

  std::printf("\n%s sets its status to \"busy\"\n", kids[0].name.c_str());
  tell(kids[0], "set busy");
  size_t seen = 0;
  auto t_set = ms();
  if (!pump(kids, [&](Child&, const std::string& l) {
        if (l.rfind("UPDATED", 0) == 0 && l.find(" busy") != std::string::npos) ++seen;
        return true;
      }, [&] { return seen == n - 1; }, 5000))
    return fail(kids, "update did not propagate");
  std::printf("  every other node applied it within %lld ms\n", static_cast<long long>(ms() - t_set));

  Child& victim = kids.back();
  std::printf("\nkilling %s with SIGKILL (no goodbye)\n", victim.name.c_str());
  auto t_kill = ms();
  kill(victim.pid, SIGKILL);
  waitpid(victim.pid, nullptr, 0);
  victim.alive = false;
  size_t removed = 0;
  if (!pump(kids, [&](Child& c, const std::string& l) {
        if (l.rfind("REMOVED " + victim.id.substr(0, 9), 0) == 0) {
          ++removed;
          std::printf("  %-7s removed %s's slice (%s) after %lld ms\n", c.name.c_str(), victim.name.c_str(),
                      l.substr(l.rfind(' ') + 1).c_str(), static_cast<long long>(ms() - t_kill));
        }
        return true;
      }, [&] { return removed == n - 1; }, 10000))
    return fail(kids, "crashed node was not evicted");
  if (!showViews()) return fail(kids, "no views");

  std::printf("\nstopping the others gracefully\n");
  for (auto& k : kids) if (k.alive) tell(k, "quit");
  size_t stopped = 0;
  if (!pump(kids, [&](Child&, const std::string& l) {
        if (l == "STOPPED") ++stopped;
        return true;
      }, [&] { return stopped == n - 1; }, 10000))
    return fail(kids, "nodes did not stop");
  for (auto& k : kids) if (k.pid != victim.pid) waitpid(k.pid, nullptr, 0);
  std::printf("\ndemo finished in %lld ms\n", static_cast<long long>(ms()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setLogLevel(LogLevel::kWarn);
  LogLevel level;
  if (const char* env = std::getenv("MESHSLICE_LOG_LEVEL"); env && parseLogLevel(env, level)) setLogLevel(level);
  std::map<std::string, std::string> flags;
  std::vector<std::string> peers;
  bool child = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--child") {
      child = true;
    } else if (a == "--print-invite") {
      flags["print-invite"] = "1";
    } else if (a == "--static") {
      flags["static"] = "1";
    } else if (a == "--persist") {
      flags["persist"] = "1";
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      if (a == "--peer") peers.push_back(argv[++i]);
      else flags[a.substr(2)] = argv[++i];
    } else {
      std::fprintf(stderr, "usage: mesh_demo [--nodes N] [--static] | --child --name NAME --invite INVITE [--peer ADDR]...\n");
      return 2;
    }
  }
  if (child) return runChild(flags, peers);
  auto nodes = flags.count("nodes") ? parseNumber(flags.at("nodes"), 2, 32) : std::optional<uint64_t>(3);
  if (!nodes) {
    std::fprintf(stderr, "mesh_demo: --nodes must be a number from 2 to 32\n");
    return 2;
  }
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = 0;
  return runDemo(self, *nodes, flags.count("static") ? Discovery::kStatic : Discovery::kMdns);
}
