// meshslice_bench's mDNS section (issue 7): a running node and, cfg.mdns_trials times, a
// newcomer process, both with mDNS only (no addresses given). From the newcomer's spawn to its
// encrypted link with the running node, and from its graceful stop to the running node
// dropping it. Two topologies (both when namespaces are given):
//   lo          both on 127.0.0.1, mDNS on `lo` with a private port (any user);
//   namespaces  the running node and the newcomer in two network namespaces on a bridge
//               (`--mdns-netns NS1,NS2 --mdns-ips IP1,IP2`, set up by scripts/bench.sh with
//               tests/lan/lan.sh; root only), mDNS on their eth0 veths, port 5353.
// Newcomers start only once the running node has announced: a watcher process
// (`meshslice_bench --mdns-watch IF --mdns-port P`, in the newcomer's namespace) reports the
// running node's announcements on the wire, and the section waits for the last of the
// mdns::kAnnounceCount; the watcher then exits, so it never takes a unicast answer meant for
// a newcomer.
#pragma once

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"
#include "tools/bench_mesh.h"

namespace meshslice::bench {

// The watcher child: prints "WATCHING" once joined to the group, then for every mDNS response
// "MDNS from=<ip> answers=<n> srv_answer=<0|1> ns=<monotonic>", until stdin closes (or 120 s).
inline int runMdnsWatch(const std::string& iface, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // shared with the nodes' sockets
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(port);
  ip_mreqn mreq{};
  inet_pton(AF_INET, mdns::kIpv4Group, &mreq.imr_multiaddr);
  mreq.imr_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 ||
      setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
    std::fprintf(stderr, "mdns watch on %s:%u: %s\n", iface.c_str(), port, std::strerror(errno));
    return 1;
  }
  emitLine("WATCHING");
  const int64_t end = monoNs() + 120 * 1000000000LL;
  while (monoNs() < end) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(fds, 2, 100) < 0) break;
    if (fds[1].revents) break;  // the parent closed our stdin (or wrote: either means stop)
    if (!(fds[0].revents & POLLIN)) continue;
    uint8_t buf[9000];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    const int64_t now = monoNs();
    auto msg = parseDnsMessage(ByteView(buf, static_cast<size_t>(n)));
    if (!msg || !msg->isResponse()) continue;
    bool srv = false;
    for (const auto& r : msg->answers) srv |= r.type == dns::kTypeSrv;
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    emitLine(std::string("MDNS from=") + ip + " answers=" + std::to_string(msg->answers.size()) +
             " srv_answer=" + (srv ? "1" : "0") + " ns=" + std::to_string(now));
  }
  close(fd);
  return 0;
}

// Waits until the watcher saw mdns::kAnnounceCount announcements (responses carrying the SRV
// record as an answer) from `ip` ("" = any sender); returns the time of the last one, or 0.
inline int64_t awaitAnnounced(Child& watcher, Child& running, const std::string& ip) {
  int seen = 0;
  int64_t last = 0;
  pumpUntil({&watcher, &running}, [&] {
    std::string l;
    while (takeLine(watcher, "MDNS ", &l)) {
      if (field(l, "srv_answer") != 1) continue;
      if (!ip.empty() && l.find("from=" + ip + " ") == std::string::npos) continue;
      ++seen;
      last = static_cast<int64_t>(field(l, "ns"));
    }
    return seen >= mdns::kAnnounceCount;
  }, 15000);
  return seen >= mdns::kAnnounceCount ? last : 0;
}

// `netns`: in the namespaces of cfg.mdns_netns, else on lo.
inline void runMdns(const std::string& exe, const Config& cfg, bool netns) {
  const auto ns = splitComma(cfg.mdns_netns), ips = splitComma(cfg.mdns_ips);
  if (netns && (ns.size() != 2 || ips.size() != 2)) return note("--mdns-netns and --mdns-ips need two names and two addresses");
  const std::string where = netns ? "mDNS (namespaces, eth0): " : "mDNS (lo, private port): ";
  std::printf("\n== %s ==\n", where.substr(0, where.size() - 2).c_str());
  const std::string port = netns ? std::to_string(mdns::kPort) : std::to_string(20000 + getpid() % 20000);
  auto wrap = [&](size_t i) { return netns ? std::vector<std::string>{"ip", "netns", "exec", ns[i]} : std::vector<std::string>{}; };
  auto flags = [&](size_t i) {
    return netns ? std::vector<std::string>{"--mdns-iface", "eth0", "--mdns-port", port, "--listen", ips[i] + ":0"}
                 : std::vector<std::string>{"--mdns-port", port};
  };
  Child watcher = spawnChild(exe, {"--mdns-watch", netns ? "eth0" : "lo", "--mdns-port", port}, wrap(1));
  if (!expectLine(watcher, "WATCHING", nullptr, 5000)) return reap(watcher, true), note("mDNS watcher did not start");
  Config c1 = cfg;
  c1.stores = 1;
  Mesh m(c1, exe, MeshSecret::generate().toInvite());
  m.dial_known = false;  // newcomers must find it by mDNS, not by address
  Child* running = m.add(0, flags(0), wrap(0));
  if (!running) return reap(watcher, true), note("running node did not start");
  const int64_t announced = awaitAnnounced(watcher, *running, netns ? ips[0] : "");
  reap(watcher, true);
  if (!announced) return note("running node's announcements not seen within 15 s");
  figure(where + "running node start -> announced", (announced - running->spawned_ns) / 1e6, "ms");
  std::vector<double> link_ms, stop_ms;
  for (int i = 0; i < cfg.mdns_trials; ++i) {
    m.dropLines();
    Child* b = m.add(0, flags(1), wrap(1));
    if (!b) break;
    auto j = m.collect({b}, "JOINED", 5000);
    if (j.empty()) note("trial " + std::to_string(i) + ": no link within 5 s");
    else link_ms.push_back((field(j[0], "ns") - static_cast<double>(b->spawned_ns)) / 1e6);
    m.collect({&m.kids[0]}, "JOINED", 5000);
    const int64_t t = monoNs();
    tell(*b, "quit");
    auto left = m.collect({&m.kids[0]}, "LEFT", 5000);
    if (!left.empty()) stop_ms.push_back((field(left[0], "ns") - static_cast<double>(t)) / 1e6);
    reap(*b, false);
    m.dropLast();
  }
  if (!link_ms.empty()) {
    figure(where + "process start -> encrypted link median", median(link_ms), "ms");
    figure(where + "process start -> encrypted link max", *std::max_element(link_ms.begin(), link_ms.end()), "ms");
  }
  if (!stop_ms.empty()) {
    figure(where + "graceful stop -> peer drops it median", median(stop_ms), "ms");
    figure(where + "graceful stop -> peer drops it max", *std::max_element(stop_ms.begin(), stop_ms.end()), "ms");
  }
  note(std::to_string(link_ms.size()) + " of " + std::to_string(cfg.mdns_trials) + " trials linked");
  tell(m.kids[0], "quit");
  m.collect(m.all(), "STOPPED", 5000);
}

}  // namespace meshslice::bench
