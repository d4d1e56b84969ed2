// Real sockets, loopback only: every MdnsDiscovery here is pinned to interface "lo" (multicast
// leaves through IP_MULTICAST_IF on lo and never reaches another interface), on a port other
// than 5353 so that nothing else on the machine is disturbed. Waits are bounded by deadlines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include "base/event_loop.h"
#include "mesh/dns_message.h"
#include "mesh/mdns.h"
#include "mesh/mdns_socket.h"

namespace meshslice {
namespace {

// Each process gets a block of kPortsPerProcess ports (testPort() and the offsets above it),
// so parallel test processes, whose pids are often a few apart, never share one: a test that
// used testPort() + 1 would otherwise talk to the process with the next pid (OtherMeshIsIgnored
// then "found" that process's mesh-1 node). 26000-32399: clear of the ranges the other suites
// derive from their pid (20000-25999) and of the kernel's ephemeral ports (32768 and up).
constexpr uint16_t kPortsPerProcess = 8;
uint16_t testPort() { return static_cast<uint16_t>(26000 + (getpid() % 800) * kPortsPerProcess); }

MdnsOptions options(std::string id, std::string mesh, uint16_t service_port) {
  MdnsOptions o;
  o.interfaces = {"lo"};
  o.port = testPort();
  o.device_id = std::move(id);
  o.mesh_tag = std::move(mesh);
  o.display_name = "node " + o.device_id;
  o.service_port = service_port;
  o.protocol_version = 1;
  o.ipv6 = false;  // lo has no IPv6 multicast route
  return o;
}

// Runs the loop until pred() holds or `limit` of wall time has passed.
bool runUntil(EventLoop& loop, const std::function<bool()>& pred,
              std::chrono::milliseconds limit = std::chrono::milliseconds(8000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    uv_run(loop.uv(), UV_RUN_ONCE);
  }
  return true;
}

struct Recorder {
  std::vector<DiscoveredPeer> found;
  std::vector<std::string> lost;
  DiscoverySource::Events events() {
    return {[this](const DiscoveredPeer& p) { found.push_back(p); },
            [this](const std::string& k) { lost.push_back(k); }};
  }
};

// Opens a plain UDP socket on 127.0.0.1 and sends `data` to the test port.
void sendRaw(const Bytes& data) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(testPort());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(data.size()));
  close(fd);
}

TEST(MdnsDiscoveryLoopback, TwoNodesFindEachOtherAndSeeTheGoodbye) {
  EventLoop loop;
  UvEnv env(loop);
  Recorder ra, rb;
  {
    MdnsDiscovery a(env, loop.uv(), options("AAAA1111", "mesh-1", 7001));
    MdnsDiscovery b(env, loop.uv(), options("BBBB2222", "mesh-1", 7002));
    ASSERT_TRUE(a.start(ra.events()).isOk());
    ASSERT_TRUE(b.start(rb.events()).isOk());
    EXPECT_EQ(a.activeInterfaces(), std::vector<std::string>{"lo"});
    ASSERT_TRUE(runUntil(loop, [&] { return !ra.found.empty() && !rb.found.empty(); }));
    EXPECT_EQ(ra.found[0].device_id, "BBBB2222");
    EXPECT_EQ(ra.found[0].endpoints, std::vector<std::string>{"127.0.0.1:7002"});
    EXPECT_EQ(ra.found[0].key, "node BBBB2222 (BBBB2222)._meshslice._tcp.local");
    EXPECT_EQ(ra.found[0].protocol_version, 1u);
    EXPECT_EQ(rb.found[0].device_id, "AAAA1111");
    EXPECT_EQ(rb.found[0].endpoints, std::vector<std::string>{"127.0.0.1:7001"});
    b.stop();
    ASSERT_TRUE(runUntil(loop, [&] { return !ra.lost.empty(); }));
    EXPECT_EQ(ra.lost[0], ra.found[0].key);
    EXPECT_EQ(ra.found.size(), 1u);
    EXPECT_EQ(a.stats().dropped_malformed, 0u);
    a.stop();
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

TEST(MdnsDiscoveryLoopback, OtherMeshIsIgnored) {
  EventLoop loop;
  UvEnv env(loop);
  Recorder ra, rb;
  {
    MdnsDiscovery a(env, loop.uv(), options("AAAA1111", "mesh-1", 7001));
    MdnsDiscovery b(env, loop.uv(), options("BBBB2222", "mesh-2", 7002));
    ASSERT_TRUE(a.start(ra.events()).isOk());
    ASSERT_TRUE(b.start(rb.events()).isOk());
    // Long enough for probing, announcing and a few queries both ways.
    runUntil(loop, [] { return false; }, std::chrono::milliseconds(2500));
    EXPECT_TRUE(ra.found.empty());
    EXPECT_TRUE(rb.found.empty());
    EXPECT_GT(a.stats().packets_received, 3u);
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

TEST(MdnsDiscoveryLoopback, HostilePacketsAreCountedAndDropped) {
  EventLoop loop;
  UvEnv env(loop);
  Recorder ra;
  {
    MdnsDiscovery a(env, loop.uv(), options("AAAA1111", "mesh-1", 7001));
    ASSERT_TRUE(a.start(ra.events()).isOk());
    sendRaw({1, 2, 3});                                      // shorter than a header
    sendRaw({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1});  // pointer loop
    DnsMessage resp;
    resp.flags = dns::kFlagResponse;
    auto wire = writeDnsMessage(resp);
    ASSERT_TRUE(wire.isOk());
    sendRaw(wire.value());  // a response from a port that is not the mDNS port
    ASSERT_TRUE(runUntil(loop, [&] {
      return a.stats().dropped_malformed >= 2 && a.stats().dropped_source_port >= 1;
    }));
    EXPECT_TRUE(ra.found.empty());
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

TEST(MdnsDiscoveryLoopback, UnknownInterfaceFailsToStart) {
  EventLoop loop;
  UvEnv env(loop);
  Recorder r;
  {
    MdnsOptions o = options("AAAA1111", "mesh-1", 7001);
    o.interfaces = {"no-such-if0"};
    MdnsDiscovery a(env, loop.uv(), o);
    EXPECT_FALSE(a.start(r.events()).isOk());
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

// A newcomer on a host where other sockets share the mDNS port (here: a running node and a
// browse-only observer, all on lo) finds the running node in one round trip, whatever port:
// its first query leaves from its own ephemeral port, so the unicast reply cannot land on
// another process's socket (a reply to the shared port reaches just one of them).
TEST(MdnsDiscoveryLoopback, ANewcomerFindsARunningNodeInOneRoundTripOnASharedPort) {
  for (uint16_t offset = 1; offset <= 4; ++offset) {  // within this process's block
    static_assert(4 < kPortsPerProcess);
    EventLoop loop;
    UvEnv env(loop);
    {
      const uint16_t port = static_cast<uint16_t>(testPort() + offset);
      MdnsOptions ro = options("RUNN0001", "mesh-1", 7001);
      ro.port = port;
      MdnsOptions oo = options("OBSE0002", "mesh-1", 7002);
      oo.port = port;
      oo.advertise = false;
      oo.unicast_first_query = false;
      MdnsOptions no = options("NEWC0003", "mesh-1", 7003);
      no.port = port;
      no.advertise = false;
      Recorder rr, ro_rec, rn;
      MdnsDiscovery running(env, loop.uv(), ro);
      MdnsDiscovery observer(env, loop.uv(), oo);
      ASSERT_TRUE(running.start(rr.events()).isOk());
      ASSERT_TRUE(observer.start(ro_rec.events()).isOk());
      // The observer hears the running node's announcement: its records are live.
      ASSERT_TRUE(runUntil(loop, [&] { return !ro_rec.found.empty(); }));
      MdnsDiscovery newcomer(env, loop.uv(), no);
      auto t0 = std::chrono::steady_clock::now();
      ASSERT_TRUE(newcomer.start(rn.events()).isOk());
      ASSERT_TRUE(runUntil(loop, [&] { return !rn.found.empty(); }));
      auto took = std::chrono::steady_clock::now() - t0;
      EXPECT_EQ(rn.found[0].device_id, "RUNN0001");
      // The fallback (the next announcement or the 1 s query) would take 0.4 s or more.
      EXPECT_LT(took, std::chrono::milliseconds(250)) << "port " << port;
    }
    Status st = loop.closeAndCheck();
    EXPECT_TRUE(st.isOk()) << st.toString();
  }
}

TEST(MdnsSocketOnLo, MulticastIsPinnedToLoByIndexAndSourceAddress) {
  EventLoop loop;
  {
    std::vector<MdnsEndpoint> heard;
    MdnsSocket rx(loop.uv(), [&](ByteView, const MdnsEndpoint& from, bool) { heard.push_back(from); });
    MdnsSocket tx(loop.uv(), [](ByteView, const MdnsEndpoint&, bool) {});
    MdnsSocketOptions so;
    so.ipv4_source = {{127, 0, 0, 1}};
    so.require_bind_to_device = true;
    ASSERT_TRUE(rx.open(AF_INET, "lo", if_nametoindex("lo"), testPort(), so).isOk());
    ASSERT_TRUE(tx.open(AF_INET, "lo", if_nametoindex("lo"), testPort(), so).isOk());
    // IP_MULTICAST_IF reads back the ip_mreqn source address we set.
    in_addr src{};
    socklen_t len = sizeof src;
    ASSERT_EQ(getsockopt(tx.fd(), IPPROTO_IP, IP_MULTICAST_IF, &src, &len), 0);
    EXPECT_EQ(ntohl(src.s_addr), INADDR_LOOPBACK);
    char dev[IFNAMSIZ] = {};
    socklen_t dev_len = sizeof dev;
    ASSERT_EQ(getsockopt(tx.fd(), SOL_SOCKET, SO_BINDTODEVICE, dev, &dev_len), 0);
    EXPECT_STREQ(dev, "lo");
    DnsMessage q;
    q.questions.push_back({"x.local", dns::kTypeA, dns::kClassIn, false});
    ASSERT_TRUE(tx.sendMulticast(writeDnsMessage(q).value()).isOk());
    ASSERT_TRUE(runUntil(loop, [&] { return !heard.empty(); }));
    EXPECT_EQ(heard[0].address, "127.0.0.1");
    EXPECT_EQ(heard[0].port, testPort());
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

TEST(MdnsSocketOnLo, WithoutASourceTheKernelPicksOne) {
  EventLoop loop;
  {
    MdnsSocket tx(loop.uv(), [](ByteView, const MdnsEndpoint&, bool) {});
    ASSERT_TRUE(tx.open(AF_INET, "lo", if_nametoindex("lo"), testPort()).isOk());
    in_addr src{};
    socklen_t len = sizeof src;
    ASSERT_EQ(getsockopt(tx.fd(), IPPROTO_IP, IP_MULTICAST_IF, &src, &len), 0);
    EXPECT_EQ(src.s_addr, htonl(INADDR_ANY));
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

TEST(MdnsSocketOnLo, AFailedDeviceBindingIsAnErrorOnlyWhereRequired) {
  EventLoop loop;
  {
    // A device name the kernel does not know makes SO_BINDTODEVICE fail (as EPERM would for
    // an unprivileged process on an old kernel); the index still names lo.
    MdnsSocketOptions strict;
    strict.require_bind_to_device = true;
    MdnsSocket a(loop.uv(), [](ByteView, const MdnsEndpoint&, bool) {});
    Status st = a.open(AF_INET, "no-such-if0", if_nametoindex("lo"), testPort(), strict);
    EXPECT_EQ(st.code(), Code::kIo);
    EXPECT_NE(st.message().find("SO_BINDTODEVICE no-such-if0"), std::string::npos) << st.message();
    EXPECT_EQ(a.fd(), -1) << "closed on failure";
    MdnsSocket b(loop.uv(), [](ByteView, const MdnsEndpoint&, bool) {});
    EXPECT_TRUE(b.open(AF_INET, "no-such-if0", if_nametoindex("lo"), testPort()).isOk())
        << "an interface found by scanning only warns";
  }
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

}  // namespace
}  // namespace meshslice
