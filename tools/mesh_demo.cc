// mesh_demo: the project's main demo. It starts N node processes on 127.0.0.1 that share one
// mesh secret (an invite), each owning a "presence" slice; every node prints the converged view
// of all devices. Then one node changes its status, one is killed with SIGKILL (the others evict
// its slice) and the rest stop gracefully (goodbyes). Loopback only; every wait is bounded.
//
//   mesh_demo [--nodes N]                 run the demo (default 3 nodes)
//   mesh_demo --child ...                 one node (used by the demo and by process tests);
//                                         reads commands on stdin, prints events on stdout.
//     --name N --invite I [--expect K] [--peer ADDR]... [--listen ADDR] [--state-dir DIR]
//     [--mdns IFACE [--mdns-port P]] [--liveness-ms MS]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "base/log.h"
#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
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

// ---------------------------------------------------------------- child: one node process
int runChild(const std::map<std::string, std::string>& flags, const std::vector<std::string>& peers) {
  if (flags.count("print-invite")) {
    emit(MeshSecret::generate().toInvite());
    return 0;
  }
  std::string name = flags.count("name") ? flags.at("name") : "node";
  size_t expect = flags.count("expect") ? std::stoul(flags.at("expect")) : 0;
  auto secret = MeshSecret::fromInvite(flags.count("invite") ? flags.at("invite") : "");
  if (!secret) {
    std::fprintf(stderr, "mesh_demo: %s\n", secret.status().toString().c_str());
    return 2;
  }
  MeshNodeOptions opts;
  opts.mesh.static_peers = peers;
  if (flags.count("liveness-ms")) opts.mesh.liveness_timeout = std::stol(flags.at("liveness-ms")) * kMillis;
  if (flags.count("listen")) opts.mesh.listen_address = flags.at("listen");
  if (flags.count("mdns")) {  // discovery on one named interface (tests: lo or a namespace veth)
    opts.mdns = true;
    opts.mdns_options.interfaces = {flags.at("mdns")};
    if (flags.count("mdns-port")) opts.mdns_options.port = static_cast<uint16_t>(std::stoul(flags.at("mdns-port")));
  }
  // With --state-dir the identity survives restarts (process tests restart a node as itself).
  Result<Identity> ident = flags.count("state-dir") ? Identity::loadOrCreate(flags.at("state-dir"), name)
                                                    : Result<Identity>(Identity::generate(name));
  if (!ident) {
    std::fprintf(stderr, "mesh_demo: %s\n", ident.status().toString().c_str());
    return 1;
  }
  MeshNode node(std::move(ident).value(), secret.value(), opts);
  auto store = std::make_unique<SyncedStore<Presence>>("presence", node.id());
  std::unique_ptr<StoreSyncAdapter> adapter;
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
  Status st = node.start();
  if (!st.isOk()) {
    std::fprintf(stderr, "mesh_demo: %s\n", st.toString().c_str());
    return 1;
  }
  node.call([&](MeshCore& core) {
    adapter = std::make_unique<StoreSyncAdapter>(node.env(), core);
    return adapter->addStore(*store);
  }).ignore();
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
      uint64_t n = std::stoull(arg);
      for (uint64_t i = 1; i <= n; ++i) store->set(Presence{name, i == n ? "final" + arg : "b" + std::to_string(i), ++counter}).ignore();
      emit("BURST " + arg);
    } else if (cmd == "view") {
      std::string out = "VIEW";
      for (auto& [id, p] : store->all()) out += " " + id.shortString() + "=" + p.name + ":" + p.status;
      emit(out);
    } else if (cmd == "peers") {
      emit("PEERS " + std::to_string(node.peers().size()));
    } else if (cmd == "quit") {
      break;
    }
  }
  node.call([&](MeshCore&) {
    adapter->stop();
    adapter.reset();
    return 0;
  });
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

int runDemo(const std::string& self, size_t n) {
  signal(SIGPIPE, SIG_IGN);
  std::string invite = MeshSecret::generate().toInvite();
  std::printf("meshslice demo: %zu nodes on 127.0.0.1, mesh invite %s\n\n", n, invite.c_str());
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
    for (auto& a : addrs) args.insert(args.end(), {"--peer", a});
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
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      if (a == "--peer") peers.push_back(argv[++i]);
      else flags[a.substr(2)] = argv[++i];
    } else {
      std::fprintf(stderr, "usage: mesh_demo [--nodes N] | --child --name NAME --invite INVITE [--peer ADDR]...\n");
      return 2;
    }
  }
  if (child) return runChild(flags, peers);
  size_t n = flags.count("nodes") ? std::stoul(flags.at("nodes")) : 3;
  if (n < 2 || n > 32) {
    std::fprintf(stderr, "mesh_demo: --nodes must be 2..32\n");
    return 2;
  }
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = 0;
  return runDemo(self, n);
}
