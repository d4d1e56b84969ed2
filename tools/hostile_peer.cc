// hostile_peer: a peer that misbehaves on purpose, for reliability and security tests. It dials
// one node (TCP, numeric address), and does one bad thing, then prints one result line:
//   RESULT mode=<mode> key=value ...
//
//   hostile_peer --target ADDR --invite I --mode MODE [options]
//   modes:
//     wrong-secret   --count N      complete the Noise handshake with a random mesh secret
//     spoof-slice    --victim ID    (valid invite) send SliceUpdates claiming device ID
//     claim-version  --victim ID [--version V] [--store ID]   (valid invite) one Digest entry
//                                   claiming to hold ID's slice of store ID (default presence)
//                                   at version V (default 2^64 - 2), sent to the target: the
//                                   freeze of issue 14 when the target is the victim
//     flood          --seconds S [--store ID]   (valid invite) send SliceUpdates of store ID
//                                   (default presence) as fast as the link takes
//     half-open      --count N [--partial] [--hold-ms MS]   TCP connects that send nothing
//                                   (or a partial first handshake frame), held open
//     oversized-frame               a frame header larger than any handshake frame
//     oversized-message             (valid invite) one 2 MiB message after the handshake
//     malformed                     (valid invite) undecodable sync payloads, then bytes that
//                                   are not msgpack at all
//     spoof-goodbye  --iface IF --victim ID   listen for the victim's mDNS adverts on IF and
//                                   multicast goodbyes (TTL 0) for its records from this host
//
// Every mode ends within --timeout-ms (default 15000). Network: only the target address and,
// for spoof-goodbye, the explicitly named interface (tests run it inside a namespace).
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "base/event_loop.h"
#include "base/log.h"
#include "mesh/dns_message.h"
#include "mesh/envelope.h"
#include "mesh/identity.h"
#include "mesh/mdns_constants.h"
#include "mesh/mesh_secret.h"
#include "store/sync_message.h"
#include "transport/address.h"
#include "transport/secure_channel.h"
#include "transport/tcp_transport.h"

using namespace meshslice;

namespace {

using Clock = std::chrono::steady_clock;
using Flags = std::map<std::string, std::string>;

void result(const std::string& mode, const std::string& fields) {
  std::printf("RESULT mode=%s %s\n", mode.c_str(), fields.c_str());
  std::fflush(stdout);
}

long flagNum(const Flags& f, const std::string& k, long def) {
  auto it = f.find(k);
  return it == f.end() ? def : std::stol(it->second);
}

// A presence value as mesh_demo's store encodes it: [name, status, counter].
Bytes presence(const std::string& name, const std::string& status, uint64_t counter) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, std::make_tuple(name, status, counter));
  return Bytes(reinterpret_cast<const uint8_t*>(buf.data()), reinterpret_cast<const uint8_t*>(buf.data()) + buf.size());
}

Bytes syncUpdate(const DeviceId& device, uint64_t version, const Bytes& data, const std::string& store = "presence") {
  SliceUpdate u;
  u.store_id = store;
  u.slice.device_id = device;
  u.slice.version = version;
  u.slice.updated_at = 1;
  u.slice.data = data;
  return encodeEnvelope(BusMessage{std::string(kSyncNamespace), encodeSyncMessage(u)});
}

// ---------------------------------------------------------------- sessions over the library
// One Noise session to the target on a loop this program runs itself (single thread).
class Session final : public ChannelHandler {
 public:
  Session(EventLoop& loop, Env& env, const Key32& psk, SecureChannelOptions options = {})
      : loop_(loop), env_(env), psk_(psk), ident_(Identity::generate("hostile")), options_(options),
        transport_(loop) {}

  // Connects and runs the loop until the link is ready (true) or closed/timed out (false).
  bool open(const std::string& target, Clock::time_point deadline) {
    Status st = transport_.connect(target, [this](Result<std::unique_ptr<Link>> r) {
      if (!r) {
        closed_ = true;
        reason_ = r.status().toString();
        return;
      }
      KeyPair keys;
      keys.priv = ident_.privateKey();
      keys.pub = ident_.publicKey();
      channel_ = std::make_unique<SecureChannel>(env_, std::move(r).value(), true, keys, psk_, this, options_);
      channel_->start();
    });
    if (!st.isOk()) {
      reason_ = st.toString();
      return false;
    }
    runUntil([this] { return ready_ || closed_; }, deadline);
    return ready_ && !closed_;
  }
  // Runs the loop until `done` or the deadline.
  void runUntil(const std::function<bool()>& done, Clock::time_point deadline) {
    auto wake = env_.newTimer([] {});
    while (!done() && Clock::now() < deadline) {
      wake->start(10 * kMillis);
      uv_run(loop_.uv(), UV_RUN_ONCE);
    }
  }
  Status send(ByteView message) { return channel_ ? channel_->sendMessage(message) : Status(Code::kClosed, "no link"); }
  Status sendHello() {
    Hello h;
    h.device_id = ident_.deviceId();
    h.name = "hostile";
    return send(encodeEnvelope(h));
  }
  const DeviceId& id() const { return ident_.deviceId(); }
  bool closed() const { return closed_; }
  bool ready() const { return ready_; }
  uint64_t received() const { return received_; }
  const std::string& reason() const { return reason_; }

 private:
  void onChannelReady(SecureChannel&) override { ready_ = true; }
  void onChannelMessage(SecureChannel&, ByteView) override { ++received_; }
  void onChannelClosed(SecureChannel&, const Status& reason) override {
    closed_ = true;
    reason_ = reason.toString();
  }

  EventLoop& loop_;
  Env& env_;
  Key32 psk_;
  Identity ident_;
  SecureChannelOptions options_;
  TcpTransport transport_;
  std::unique_ptr<SecureChannel> channel_;
  bool ready_ = false, closed_ = false;
  uint64_t received_ = 0;
  std::string reason_;
};

std::string quoted(std::string s) {
  for (auto& c : s) if (c == ' ' || c == '"') c = '_';
  return s;
}

int wrongSecret(EventLoop& loop, Env& env, const std::string& target, const Flags& f, Clock::time_point deadline) {
  long count = flagNum(f, "count", 3), established = 0, closed = 0;
  for (long i = 0; i < count; ++i) {
    Key32 psk = MeshSecret::generate().psk();
    Session s(loop, env, psk);
    if (s.open(target, deadline)) s.sendHello().ignore();
    // The initiator finishes its side first; the responder's verdict arrives as a close.
    s.runUntil([&] { return s.closed() || s.received() > 0; }, std::min(deadline, Clock::now() + std::chrono::seconds(3)));
    established += s.received() > 0;
    closed += s.closed();
  }
  result("wrong-secret", "attempts=" + std::to_string(count) + " established=" + std::to_string(established) +
                             " closed=" + std::to_string(closed));
  return established == 0 ? 0 : 1;
}

// Opens a session with the right secret and exchanges Hellos.
std::unique_ptr<Session> joined(EventLoop& loop, Env& env, const Key32& psk, const std::string& target,
                                Clock::time_point deadline, SecureChannelOptions options = {}) {
  auto s = std::make_unique<Session>(loop, env, psk, options);
  if (!s->open(target, deadline) || !s->sendHello().isOk()) return nullptr;
  s->runUntil([&] { return s->closed() || s->received() > 0; }, deadline);
  return s->received() > 0 ? std::move(s) : nullptr;
}

int spoofSlice(EventLoop& loop, Env& env, const Key32& psk, const std::string& target, const Flags& f,
               Clock::time_point deadline) {
  auto victim = DeviceId::parse(f.count("victim") ? f.at("victim") : "");
  if (!victim) return std::fprintf(stderr, "hostile_peer: --victim: %s\n", victim.status().toString().c_str()), 2;
  auto s = joined(loop, env, psk, target, deadline);
  if (!s) return result("spoof-slice", "joined=0"), 1;
  int sent = 0;
  for (uint64_t v = 1; v <= 20; ++v)
    sent += s->send(syncUpdate(victim.value(), (1ull << 62) + v, presence("spoofed", "pwned", v))).isOk();
  s->runUntil([&] { return s->closed(); }, std::min(deadline, Clock::now() + std::chrono::seconds(1)));
  result("spoof-slice", "joined=1 sent=" + std::to_string(sent) + " closed=" + std::to_string(s->closed()));
  return 0;
}

int claimVersion(EventLoop& loop, Env& env, const Key32& psk, const std::string& target, const Flags& f,
                 Clock::time_point deadline) {
  auto victim = DeviceId::parse(f.count("victim") ? f.at("victim") : "");
  if (!victim) return std::fprintf(stderr, "hostile_peer: --victim: %s\n", victim.status().toString().c_str()), 2;
  const uint64_t version = f.count("version") ? std::stoull(f.at("version")) : UINT64_MAX - 1;
  auto s = joined(loop, env, psk, target, deadline);
  if (!s) return result("claim-version", "joined=0"), 1;
  Digest d;
  d.entries.push_back(DigestEntry{f.count("store") ? f.at("store") : "presence", victim.value(), version, env.randomU64() | 1});
  const bool sent = s->send(encodeEnvelope(BusMessage{std::string(kSyncNamespace), encodeSyncMessage(d)})).isOk();
  // Stay linked a moment, as a member would: the node judges the claim meanwhile.
  s->runUntil([&] { return s->closed(); }, std::min(deadline, Clock::now() + std::chrono::milliseconds(500)));
  result("claim-version", "joined=1 sent=" + std::to_string(sent) + " closed=" + std::to_string(s->closed()));
  return 0;
}

// Floods until --seconds pass, rejoining (as a new device) each time the node cuts it off.
int flood(EventLoop& loop, Env& env, const Key32& psk, const std::string& target, const Flags& f,
          Clock::time_point deadline) {
  auto stop = std::min(deadline, Clock::now() + std::chrono::milliseconds(flagNum(f, "seconds", 5) * 1000));
  uint64_t sent = 0, joins = 0, disconnects = 0;
  std::string reason;
  const Bytes data = presence("hostile", "flood", 0);
  const std::string store = f.count("store") ? f.at("store") : "presence";
  while (Clock::now() < stop) {
    auto s = joined(loop, env, psk, target, stop);
    if (!s) break;
    ++joins;
    uint64_t version = 0;
    while (!s->closed() && Clock::now() < stop) {
      for (int i = 0; i < 256 && s->send(syncUpdate(s->id(), ++version, data, store)).isOk(); ++i) ++sent;
      uv_run(loop.uv(), UV_RUN_NOWAIT);
    }
    // Let the node's verdict (a close) arrive.
    s->runUntil([&] { return s->closed(); }, std::min(deadline, Clock::now() + std::chrono::seconds(2)));
    disconnects += s->closed();
    if (s->closed()) reason = s->reason();
  }
  result("flood", "joined=" + std::to_string(joins) + " sent=" + std::to_string(sent) +
                      " disconnected=" + std::to_string(disconnects) + " reason=" + quoted(reason));
  return joins > 0 ? 0 : 1;
}

int oversizedMessage(EventLoop& loop, Env& env, const Key32& psk, const std::string& target, Clock::time_point deadline) {
  SecureChannelOptions big;
  big.max_message_size = 8 * 1024 * 1024;
  big.max_pending_bytes = 16 * 1024 * 1024;
  auto s = joined(loop, env, psk, target, deadline, big);
  if (!s) return result("oversized-message", "joined=0"), 1;
  Bytes huge(2 * 1024 * 1024, 0x90);  // msgpack fixarray(0) bytes: it is the size that is wrong
  Status st = s->send(huge);
  s->runUntil([&] { return s->closed(); }, deadline);
  result("oversized-message", "joined=1 queued=" + std::to_string(st.isOk()) + " disconnected=" +
                                  std::to_string(s->closed()) + " reason=" + quoted(s->reason()));
  return 0;
}

int malformed(EventLoop& loop, Env& env, const Key32& psk, const std::string& target, Clock::time_point deadline) {
  auto s = joined(loop, env, psk, target, deadline);
  if (!s) return result("malformed", "joined=0"), 1;
  // Valid envelopes whose sync payloads are garbage: the adapter counts and drops them.
  const std::vector<Bytes> bad_sync = {{0xc1}, {0x93, 0x01}, {0x92, 0x01, 0xa1, 'x'}, {0xdd, 0xff, 0xff, 0xff, 0xff}};
  int sent = 0;
  for (const auto& p : bad_sync) sent += s->send(encodeEnvelope(BusMessage{std::string(kSyncNamespace), p})).isOk();
  s->runUntil([&] { return s->closed(); }, std::min(deadline, Clock::now() + std::chrono::milliseconds(500)));
  const bool survived_sync = !s->closed();
  // Then an envelope that is not msgpack: a protocol violation, the link must close.
  const Bytes not_msgpack = {0xc1, 0xc1, 0xc1, 0xc1};
  sent += s->send(not_msgpack).isOk();
  s->runUntil([&] { return s->closed(); }, deadline);
  result("malformed", "joined=1 sent=" + std::to_string(sent) + " link_kept_after_bad_sync=" +
                          std::to_string(survived_sync) + " disconnected=" + std::to_string(s->closed()) +
                          " reason=" + quoted(s->reason()));
  return 0;
}

// ---------------------------------------------------------------- raw TCP
int rawConnect(const std::string& target) {
  auto hp = splitHostPort(target);
  if (!hp || hp->host.find(':') != std::string::npos) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(hp->port);
  if (inet_pton(AF_INET, hp->host.c_str(), &sa.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

// True if the peer closed (EOF or reset) the socket.
bool peerClosed(int fd) {
  char buf[256];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

int halfOpen(const std::string& target, const Flags& f, Clock::time_point deadline) {
  long count = flagNum(f, "count", 200), hold_ms = flagNum(f, "hold-ms", 1000);
  const bool partial = f.count("partial") != 0;
  std::vector<int> fds;
  for (long i = 0; i < count && Clock::now() < deadline; ++i) {
    int fd = rawConnect(target);
    if (fd < 0) continue;
    if (partial) {
      const uint8_t part[] = {0x00, 0x20, 0x01, 0x02, 0x03};  // says 32 bytes, sends 3
      if (send(fd, part, sizeof part, MSG_NOSIGNAL) < 0) {}
    }
    fds.push_back(fd);
  }
  auto until = std::min(deadline, Clock::now() + std::chrono::milliseconds(hold_ms));
  while (Clock::now() < until) usleep(20000);
  int closed_by_node = 0;
  for (int fd : fds) {
    closed_by_node += peerClosed(fd);
    close(fd);
  }
  result("half-open", "opened=" + std::to_string(fds.size()) + " closed_by_node=" + std::to_string(closed_by_node));
  return 0;
}

int oversizedFrame(const std::string& target, Clock::time_point deadline) {
  int fd = rawConnect(target);
  if (fd < 0) return result("oversized-frame", "connected=0"), 1;
  std::vector<uint8_t> frame(2 + 4096, 0xAB);
  frame[0] = 0xFF;  // 65535: past the handshake frame limit
  frame[1] = 0xFF;
  if (send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) < 0) {}
  bool closed = false;
  while (!closed && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) closed = peerClosed(fd);
  }
  close(fd);
  result("oversized-frame", "connected=1 disconnected=" + std::to_string(closed));
  return 0;
}

// ---------------------------------------------------------------- mDNS goodbye spoofing
int mdnsSocket(const std::string& iface, in_addr& if_addr) {
  unsigned idx = if_nametoindex(iface.c_str());
  if (idx == 0) return -1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(mdns::kPort);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return close(fd), -1;
  ip_mreqn mreq{};
  inet_pton(AF_INET, mdns::kIpv4Group, &mreq.imr_multiaddr);
  mreq.imr_ifindex = static_cast<int>(idx);
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) return close(fd), -1;
  ip_mreqn out{};
  out.imr_ifindex = static_cast<int>(idx);
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out);
  int ttl = mdns::kMulticastTtl;
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  (void)if_addr;
  return fd;
}

// The victim's records from one response: its TXT names it (id=...); PTR/SRV/TXT follow.
std::vector<DnsRecord> victimRecords(const DnsMessage& m, const std::string& victim) {
  std::string instance;
  auto all = m.answers;
  all.insert(all.end(), m.additionals.begin(), m.additionals.end());
  for (const auto& r : all) {
    if (r.type != dns::kTypeTxt) continue;
    for (const auto& s : r.txt)
      if (s == "id=" + victim) instance = r.name;
  }
  std::vector<DnsRecord> out;
  if (instance.empty()) return out;
  for (const auto& r : all)
    if (dnsNameEquals(r.name, instance) || (r.type == dns::kTypePtr && dnsNameEquals(r.ptr, instance))) out.push_back(r);
  return out;
}

int spoofGoodbye(const Flags& f, Clock::time_point deadline) {
  if (!f.count("iface") || !f.count("victim")) {
    std::fprintf(stderr, "hostile_peer: spoof-goodbye needs --iface and --victim\n");
    return 2;
  }
  in_addr if_addr{};
  int fd = mdnsSocket(f.at("iface"), if_addr);
  if (fd < 0) return result("spoof-goodbye", "socket=0"), 1;
  std::vector<DnsRecord> records;
  while (records.empty() && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    uint8_t buf[9000];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) continue;
    auto m = parseDnsMessage(ByteView(buf, static_cast<size_t>(n)));
    if (m && m.value().isResponse()) records = victimRecords(m.value(), f.at("victim"));
  }
  if (records.empty()) return close(fd), result("spoof-goodbye", "seen=0 sent=0"), 1;
  DnsMessage bye;
  bye.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  for (auto r : records) {
    r.ttl = 0;
    bye.answers.push_back(r);
  }
  auto packet = writeDnsMessage(bye);
  int sent = 0;
  sockaddr_in group{};
  group.sin_family = AF_INET;
  group.sin_port = htons(mdns::kPort);
  inet_pton(AF_INET, mdns::kIpv4Group, &group.sin_addr);
  for (int i = 0; packet && i < static_cast<int>(flagNum(f, "repeat", 3)); ++i) {
    sent += sendto(fd, packet.value().data(), packet.value().size(), 0, reinterpret_cast<sockaddr*>(&group),
                   sizeof group) > 0;
    usleep(200000);
  }
  close(fd);
  result("spoof-goodbye", "seen=1 records=" + std::to_string(records.size()) + " sent=" + std::to_string(sent));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setLogLevel(LogLevel::kError);
  // This tool runs its loop on the main thread: when the node under attack cuts the link
  // mid-write, the write must fail with EPIPE, not kill the tool before it reports.
  signal(SIGPIPE, SIG_IGN);
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--partial") f["partial"] = "1";
    else if (a.rfind("--", 0) == 0 && i + 1 < argc) f[a.substr(2)] = argv[++i];
    else return std::fprintf(stderr, "hostile_peer: bad argument %s (see the header of tools/hostile_peer.cc)\n", a.c_str()), 2;
  }
  const std::string mode = f.count("mode") ? f.at("mode") : "";
  const std::string target = f.count("target") ? f.at("target") : "";
  auto deadline = Clock::now() + std::chrono::milliseconds(flagNum(f, "timeout-ms", 15000));
  int rc = 2;
  if (mode == "spoof-goodbye") {
    rc = spoofGoodbye(f, deadline);
  } else if (target.empty()) {
    std::fprintf(stderr, "hostile_peer: --target is required\n");
  } else if (mode == "half-open") {
    rc = halfOpen(target, f, deadline);
  } else if (mode == "oversized-frame") {
    rc = oversizedFrame(target, deadline);
  } else {
    auto secret = MeshSecret::fromInvite(f.count("invite") ? f.at("invite") : "");
    if (!secret) return std::fprintf(stderr, "hostile_peer: %s\n", secret.status().toString().c_str()), 2;
    Key32 psk = secret.value().psk();
    EventLoop loop;
    UvEnv env(loop);
    if (mode == "wrong-secret") rc = wrongSecret(loop, env, target, f, deadline);
    else if (mode == "spoof-slice") rc = spoofSlice(loop, env, psk, target, f, deadline);
    else if (mode == "claim-version") rc = claimVersion(loop, env, psk, target, f, deadline);
    else if (mode == "flood") rc = flood(loop, env, psk, target, f, deadline);
    else if (mode == "oversized-message") rc = oversizedMessage(loop, env, psk, target, deadline);
    else if (mode == "malformed") rc = malformed(loop, env, psk, target, deadline);
    else std::fprintf(stderr, "hostile_peer: unknown --mode %s\n", mode.c_str());
    sodium_memzero(psk.data(), psk.size());
    std::fflush(stdout);
    // Sessions and the loop hold live libuv handles; a test tool may skip the orderly close.
    std::_Exit(rc);
  }
  return rc;
}
