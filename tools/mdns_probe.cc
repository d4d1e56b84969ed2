// mdns_probe: runs MdnsDiscovery on the named interfaces and prints one line per event, until a
// deadline, a number of found events, or SIGINT/SIGTERM (then it says goodbye).
//
//   found key=<instance> id=<device id> v=<version> endpoints=<ep>[,<ep>...]
//   lost key=<instance>
//   q <name> <type> qu|qm from=<address>              (with --dump: every question received)
//   rr <section> <name> <type> ttl=<ttl> <data>       (with --dump: every record received)
//   stats received=.. sent=.. malformed=.. oversize=.. source_port=..
//
// An interface is required: this tool never picks "every interface" by itself, so it cannot
// multicast on a real network by accident. The mesh is named by --mesh TAG or by --invite
// (the tag is derived from the mesh secret, as nodes do). With --log info, "announced <name>
// on <if>" on stderr says our records are live. Used by tests/scripts/mdns_avahi_interop.sh
// and, as a browse-only observer (--no-advertise), by tests/lan/lan_faults.py.
#include <CLI/CLI.hpp>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/event_loop.h"
#include "base/log.h"
#include "mesh/dns_message.h"
#include "mesh/mdns.h"
#include "mesh/mdns_socket.h"
#include "mesh/mesh_secret.h"

using namespace meshslice;

namespace {

std::string describe(const DnsRecord& r) {
  char buf[64];
  switch (r.type) {
    case dns::kTypePtr:
      return "PTR " + r.ptr;
    case dns::kTypeSrv:
      return "SRV " + std::to_string(r.srv.priority) + " " + std::to_string(r.srv.weight) + " " +
             std::to_string(r.srv.port) + " " + r.srv.target;
    case dns::kTypeTxt: {
      std::string out = "TXT";
      for (const auto& s : r.txt) out += " \"" + s + "\"";
      return out;
    }
    case dns::kTypeA:
      uv_inet_ntop(AF_INET, r.a.data(), buf, sizeof buf);
      return std::string("A ") + buf;
    case dns::kTypeAaaa:
      uv_inet_ntop(AF_INET6, r.aaaa.data(), buf, sizeof buf);
      return std::string("AAAA ") + buf;
    case dns::kTypeNsec:
      return "NSEC " + r.nsec.next_name;
    default:
      return "TYPE" + std::to_string(r.type);
  }
}

void dump(ByteView data, const MdnsEndpoint& from, const std::string& record_dir, int& seq) {
  if (!record_dir.empty()) {
    std::ofstream f(record_dir + "/" + std::to_string(seq++) + ".bin", std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }
  auto m = parseDnsMessage(data);
  if (!m) {
    std::printf("bad from=%s:%u %s\n", from.address.c_str(), from.port,
                m.status().toString().c_str());
    return;
  }
  for (const auto& q : m->questions) {
    std::printf("q %s %u %s from=%s\n", q.name.c_str(), q.type, q.unicast_response ? "qu" : "qm",
                from.address.c_str());
  }
  const char* names[] = {"an", "ns", "ar"};
  int i = 0;
  for (const auto* sec : {&m->answers, &m->authorities, &m->additionals}) {
    for (const auto& r : *sec) {
      std::printf("rr %s %s ttl=%u%s %s from=%s\n", names[i], r.name.c_str(), r.ttl,
                  r.cache_flush ? " flush" : "", describe(r).c_str(), from.address.c_str());
    }
    ++i;
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs mDNS discovery on named interfaces and prints events"};
  MdnsOptions o;
  double seconds = 10;
  int exit_after_found = 0;
  bool dump_records = false;
  std::string record_dir;
  std::string log_level = "warn";
  app.add_option("-i,--interface", o.interfaces, "interface to use (repeatable)")->required();
  app.add_option("--port", o.port, "mDNS port");
  app.add_option("--id", o.device_id, "device ID (TXT id)")->required();
  std::string invite;
  auto* mesh_opt = app.add_option("--mesh", o.mesh_tag, "mesh tag (TXT mesh)");
  app.add_option("--invite", invite, "mesh invite: its tag names the mesh")->excludes(mesh_opt);
  app.add_option("--name", o.display_name, "display name");
  app.add_option("--instance", o.instance_name, "instance name");
  app.add_option("--host", o.host_name, "host name without .local");
  app.add_option("--service-port", o.service_port, "advertised TCP port");
  app.add_option("--version", o.protocol_version, "protocol version (TXT v)");
  app.add_flag("!--no-advertise", o.advertise, "browse only");
  app.add_flag("!--no-ipv6", o.ipv6, "IPv4 only");
  app.add_option("--seconds", seconds, "deadline");
  app.add_option("--exit-after-found", exit_after_found, "exit after this many found events");
  app.add_flag("--dump", dump_records, "print every record received");
  app.add_option("--record-dir", record_dir, "save every packet received as <n>.bin here");
  app.add_option("--log", log_level, "log level");
  CLI11_PARSE(app, argc, argv);
  if (!invite.empty()) {
    auto secret = MeshSecret::fromInvite(invite);
    if (!secret) {
      std::fprintf(stderr, "mdns_probe: %s\n", secret.status().toString().c_str());
      return 2;
    }
    o.mesh_tag = secret->tag();
  }
  if (o.mesh_tag.empty()) {
    std::fprintf(stderr, "mdns_probe: --mesh or --invite is required\n");
    return 2;
  }
  LogLevel level;
  if (parseLogLevel(log_level, level)) setLogLevel(level);

  EventLoop loop;
  UvEnv env(loop);
  int found = 0;
  int seq = 0;
  bool done = false;
  {
    MdnsDiscovery discovery(env, loop.uv(), o);
    std::vector<std::unique_ptr<MdnsSocket>> recorders;
    if (dump_records || !record_dir.empty()) {
      for (const auto& ifname : o.interfaces) {
        auto s = std::make_unique<MdnsSocket>(loop.uv(), [&](ByteView d, const MdnsEndpoint& f, bool) {
          dump(d, f, record_dir, seq);
        });
        Status st = s->open(AF_INET, ifname, if_nametoindex(ifname.c_str()), o.port);
        if (st.isOk()) recorders.push_back(std::move(s));
      }
    }
    auto finish = [&] {
      if (done) return;
      done = true;
      // A second SIGINT/SIGTERM (`timeout` sends one to the child and one to its process
      // group) must not kill the probe once the signal handles close and libuv restores the
      // default action: block both for the rest of the run; the exit discards them.
      sigset_t quit_signals;
      sigemptyset(&quit_signals);
      sigaddset(&quit_signals, SIGINT);
      sigaddset(&quit_signals, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &quit_signals, nullptr);
      discovery.stop();
      recorders.clear();
    };
    DiscoverySource::Events events;
    events.found = [&](const DiscoveredPeer& p) {
      std::string eps;
      for (const auto& e : p.endpoints) eps += (eps.empty() ? "" : ",") + e;
      std::printf("found key=%s id=%s v=%u endpoints=%s\n", p.key.c_str(), p.device_id.c_str(),
                  p.protocol_version, eps.c_str());
      std::fflush(stdout);
      if (exit_after_found > 0 && ++found >= exit_after_found) finish();
    };
    events.lost = [&](const std::string& key) {
      std::printf("lost key=%s\n", key.c_str());
      std::fflush(stdout);
    };
    Status st = discovery.start(events);
    if (!st.isOk()) {
      std::fprintf(stderr, "mdns_probe: %s\n", st.toString().c_str());
      return 1;
    }
    auto deadline = env.newTimer(finish);
    deadline->start(static_cast<Micros>(seconds * kSeconds));
    std::function<void()> finish_fn = finish;
    UvHandle<uv_signal_t> sigint, sigterm;
    for (auto* h : {&sigint, &sigterm}) {
      uv_signal_init(loop.uv(), h->get());
      h->markInitialized(&finish_fn);
    }
    auto on_signal = [](uv_signal_t* s, int) {
      if (auto* f = static_cast<std::function<void()>*>(s->data)) (*f)();
    };
    uv_signal_start(sigint.get(), on_signal, SIGINT);
    uv_signal_start(sigterm.get(), on_signal, SIGTERM);
    while (!done) uv_run(loop.uv(), UV_RUN_ONCE);
    const MdnsStats& s = discovery.stats();
    std::printf("stats received=%llu sent=%llu malformed=%llu oversize=%llu source_port=%llu\n",
                static_cast<unsigned long long>(s.packets_received),
                static_cast<unsigned long long>(s.packets_sent),
                static_cast<unsigned long long>(s.dropped_malformed),
                static_cast<unsigned long long>(s.dropped_oversize),
                static_cast<unsigned long long>(s.dropped_source_port));
    std::fflush(stdout);
  }
  Status st = loop.closeAndCheck();
  if (!st.isOk()) {
    std::fprintf(stderr, "mdns_probe: %s\n", st.toString().c_str());
    return 1;
  }
  return 0;
}
