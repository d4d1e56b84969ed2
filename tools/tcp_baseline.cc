// tcp_baseline: the physical limit meshslice's figures are compared with. Plain TCP on
// 127.0.0.1 between two processes, no encryption, no codec: a libuv server (the same event loop
// a node runs) and a client with blocking sockets and TCP_NODELAY, moving the same message sizes
// the slice benchmarks use.
//
//   tcp_baseline [--sizes 64,1024,65536] [--count 3000] [--rate 1000] [--seconds 2]
//
// Per size it prints
//   RTT size=S samples=N p50_us=.. p99_us=.. p999_us=.. oneway_p50_us=.. oneway_p99_us=..
//     (ping-pong paced at --rate; one-way from a CLOCK_MONOTONIC stamp the server compares)
//   TPUT size=S msgs_per_s=.. mb_per_s=..
//     (one-way stream of length-prefixed messages for --seconds, counted by the server)
//   AEAD size=S mb_per_s=..
//     (libsodium ChaCha20-Poly1305 IETF, the cipher of a link, encrypting S-byte messages for
//      --seconds / 4; per second of this thread's CPU time: the speed of one core)
// and once
//   WAKE placement=any|same-core|cross-core samples=N p50_us=.. p99_us=.. p999_us=..
//     (a thread stamps CLOCK_MONOTONIC and calls uv_async_send at --rate; the time until the
//      async callback runs on an idle libuv loop thread: the wake-up a set() from an
//      application thread costs a node. `any`: the scheduler places both threads; same-core /
//      cross-core: pinned to CPU 0 / CPUs 0 and 1, the latter only with 2+ CPUs)
// Loopback only; every phase is bounded in count and time.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <uv.h>

#include <sodium.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <thread>

#include "tools/bench_support.h"

using namespace meshslice::bench;

namespace {

// Frame: len:u32le | kind:u8 | stamp:i64 | oneway:i64 | padding up to len bytes in total body.
constexpr uint8_t kPing = 1, kData = 2, kEnd = 3, kAck = 4;
constexpr size_t kHeader = 4;
constexpr size_t kMinBody = 1 + 8 + 8;

// ------------------------------------------------------------------ server (libuv)
struct Conn {
  uv_tcp_t tcp;
  std::string buf;
  char read_buf[65536 + 64];
  uint64_t msgs = 0, bytes = 0;
  int64_t first_ns = 0, last_ns = 0;
};

struct Write {
  uv_write_t req;
  std::string data;
};

void sendBytes(Conn* c, std::string data) {
  auto* w = new Write{{}, std::move(data)};
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1,
               [](uv_write_t* r, int) { delete reinterpret_cast<Write*>(r); }) != 0)
    delete w;
}

void onFrame(Conn* c, const char* body, size_t len) {
  uint8_t kind = static_cast<uint8_t>(body[0]);
  int64_t now = monoNs();
  if (kind == kPing) {
    int64_t stamp;
    std::memcpy(&stamp, body + 1, 8);
    int64_t oneway = now - stamp;
    std::string echo(kHeader + len, '\0');
    uint32_t l = static_cast<uint32_t>(len);
    std::memcpy(echo.data(), &l, 4);
    std::memcpy(echo.data() + kHeader, body, len);
    std::memcpy(echo.data() + kHeader + 9, &oneway, 8);
    sendBytes(c, std::move(echo));
  } else if (kind == kData) {
    if (c->msgs == 0) c->first_ns = now;
    c->last_ns = now;
    ++c->msgs;
    c->bytes += len;
  } else if (kind == kEnd) {
    std::printf("RECV msgs=%llu bytes=%llu first_ns=%lld last_ns=%lld\n",
                static_cast<unsigned long long>(c->msgs), static_cast<unsigned long long>(c->bytes),
                static_cast<long long>(c->first_ns), static_cast<long long>(c->last_ns));
    std::fflush(stdout);
    c->msgs = c->bytes = 0;
    std::string ack(kHeader + kMinBody, '\0');
    uint32_t l = kMinBody;
    std::memcpy(ack.data(), &l, 4);
    ack[kHeader] = static_cast<char>(kAck);
    sendBytes(c, std::move(ack));
  }
}

void onRead(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
  auto* c = static_cast<Conn*>(s->data);
  if (n < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(s), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  c->buf.append(b->base, static_cast<size_t>(n));
  size_t off = 0;
  while (c->buf.size() - off >= kHeader) {
    uint32_t len;
    std::memcpy(&len, c->buf.data() + off, 4);
    if (c->buf.size() - off - kHeader < len) break;
    onFrame(c, c->buf.data() + off + kHeader, len);
    off += kHeader + len;
  }
  c->buf.erase(0, off);
}

int runServer() {
  uv_loop_t* loop = uv_default_loop();
  static uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  if (uv_tcp_bind(&server, reinterpret_cast<sockaddr*>(&addr), 0) != 0) return 1;
  uv_listen(reinterpret_cast<uv_stream_t*>(&server), 16, [](uv_stream_t* srv, int status) {
    if (status != 0) return;
    auto* c = new Conn;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(srv, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) return;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp),
                  [](uv_handle_t* h, size_t, uv_buf_t* b) {
                    auto* conn = static_cast<Conn*>(h->data);
                    *b = uv_buf_init(conn->read_buf, sizeof conn->read_buf);
                  },
                  onRead);
  });
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&ss), &len);
  std::printf("PORT %d\n", ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
  std::fflush(stdout);
  // Ends when the parent closes our stdin.
  static uv_pipe_t in;
  uv_pipe_init(loop, &in, 0);
  uv_pipe_open(&in, 0);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&in),
                [](uv_handle_t*, size_t, uv_buf_t* b) {
                  static char sink[256];
                  *b = uv_buf_init(sink, sizeof sink);
                },
                [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
                  if (n < 0) uv_stop(s->loop);
                });
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}

// ------------------------------------------------------------------ client (blocking)
bool sendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool recvAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string frame(size_t body, uint8_t kind) {
  std::string f(kHeader + body, 'x');
  uint32_t l = static_cast<uint32_t>(body);
  std::memcpy(f.data(), &l, 4);
  f[kHeader] = static_cast<char>(kind);
  return f;
}

void runRtt(int fd, size_t size, int count, int rate) {
  std::string f = frame(size, kPing), echo(f.size(), '\0');
  std::vector<double> rtt, oneway;
  const int64_t start = monoNs(), period = rate > 0 ? 1000000000LL / rate : 0;
  for (int i = 0; i < count; ++i) {
    if (period) sleepUntilNs(start + i * period);
    int64_t t = monoNs();
    std::memcpy(f.data() + kHeader + 1, &t, 8);
    if (!sendAll(fd, f.data(), f.size()) || !recvAll(fd, echo.data(), echo.size())) break;
    rtt.push_back(static_cast<double>(monoNs() - t) / 1000.0);
    int64_t ow;
    std::memcpy(&ow, echo.data() + kHeader + 9, 8);
    oneway.push_back(static_cast<double>(ow) / 1000.0);
  }
  std::printf("RTT size=%zu samples=%zu rate=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f oneway_p50_us=%.1f "
              "oneway_p99_us=%.1f\n",
              size, rtt.size(), rate, percentile(rtt, 0.5), percentile(rtt, 0.99), percentile(rtt, 0.999),
              percentile(oneway, 0.5), percentile(oneway, 0.99));
}

void runTput(int fd, Child& server, size_t size, double seconds) {
  // Back-to-back frames in ~256 KiB writes: the sender does no per-message work at all.
  std::string one = frame(size, kData), batch;
  while (batch.size() + one.size() <= 256 * 1024 || batch.empty()) batch += one;
  const int64_t end = monoNs() + static_cast<int64_t>(seconds * 1e9);
  while (monoNs() < end)
    if (!sendAll(fd, batch.data(), batch.size())) return;
  std::string fin = frame(kMinBody, kEnd), ack(kHeader + kMinBody, '\0');
  if (!sendAll(fd, fin.data(), fin.size()) || !recvAll(fd, ack.data(), ack.size())) return;
  std::string line;
  if (!expectLine(server, "RECV", &line, 5000)) return;
  double msgs = field(line, "msgs"), bytes = field(line, "bytes");
  double secs = (field(line, "last_ns") - field(line, "first_ns")) / 1e9;
  if (secs <= 0) return;
  std::printf("TPUT size=%zu msgs_per_s=%.0f mb_per_s=%.1f\n", size, msgs / secs, bytes / secs / 1e6);
}

// ------------------------------------------------------------------ cross-thread wake
// Pins the calling thread to `cpu` (-1: leave it where the scheduler puts it).
void pinThread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

struct WakeProbe {
  uv_loop_t loop;
  uv_async_t async;
  std::atomic<int64_t> stamp{0};
  std::atomic<uint32_t> seq{0};
  uint32_t seen = 0;
  std::atomic<bool> stop{false};
  std::vector<double> latency_us;  // loop thread until joined
};

// uv_async_send from a paced thread to a libuv loop thread idle in epoll_wait, `count` times.
void runWake(const char* placement, int loop_cpu, int sender_cpu, int count, int rate) {
  WakeProbe p;
  p.latency_us.reserve(static_cast<size_t>(count));
  uv_loop_init(&p.loop);
  p.async.data = &p;
  uv_async_init(&p.loop, &p.async, [](uv_async_t* a) {
    auto* w = static_cast<WakeProbe*>(a->data);
    const int64_t now = monoNs();
    // One sample per send: a coalesced wake-up (two sends, one callback) is not counted.
    const uint32_t seq = w->seq.load();
    if (seq == w->seen + 1) w->latency_us.push_back(static_cast<double>(now - w->stamp.load()) / 1000.0);
    w->seen = seq;
    if (w->stop.load()) uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
  });
  std::thread loop_thread([&] {
    pinThread(loop_cpu);
    uv_run(&p.loop, UV_RUN_DEFAULT);
  });
  std::thread sender([&] {
    pinThread(sender_cpu);
    const int64_t start = monoNs() + 20000000, period = 1000000000LL / std::max(rate, 1);
    for (int i = 0; i < count; ++i) {
      sleepUntilNs(start + i * period);
      p.stamp.store(monoNs());
      p.seq.fetch_add(1);
      uv_async_send(&p.async);
    }
    sleepUntilNs(monoNs() + 2 * period);
    p.stop.store(true);
    uv_async_send(&p.async);
  });
  sender.join();
  loop_thread.join();
  uv_loop_close(&p.loop);
  std::printf("WAKE placement=%s samples=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f\n", placement, p.latency_us.size(),
              percentile(p.latency_us, 0.5), percentile(p.latency_us, 0.99), percentile(p.latency_us, 0.999));
  std::fflush(stdout);
}

// ------------------------------------------------------------------ AEAD on one core
void runAead(size_t size, double seconds) {
  if (sodium_init() < 0) return;
  std::vector<unsigned char> key(crypto_aead_chacha20poly1305_ietf_KEYBYTES, 7), nonce(crypto_aead_chacha20poly1305_ietf_NPUBBYTES, 0);
  std::vector<unsigned char> msg(size, 0x5a), out(size + crypto_aead_chacha20poly1305_ietf_ABYTES);
  // CPU time of this thread, not wall time: the speed of one core, even on a loaded machine.
  auto cpuNs = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  };
  const int64_t end = monoNs() + static_cast<int64_t>(seconds * 1e9), cpu0 = cpuNs();
  uint64_t n = 0;
  for (; monoNs() < end && n < 100000000; ++n) {
    std::memcpy(nonce.data() + 4, &n, 8);
    unsigned long long out_len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_len, msg.data(), msg.size(), nullptr, 0, nullptr,
                                              nonce.data(), key.data());
  }
  const double secs = std::max(1e-9, static_cast<double>(cpuNs() - cpu0) / 1e9);
  std::printf("AEAD size=%zu msgs_per_s=%.0f mb_per_s=%.1f\n", size, static_cast<double>(n) / secs,
              static_cast<double>(n * size) / secs / 1e6);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--serve") return runServer();
    if (a.rfind("--", 0) == 0 && i + 1 < argc) flags[a.substr(2)] = argv[++i];
  }
  std::vector<size_t> sizes;
  std::istringstream in(flags.count("sizes") ? flags["sizes"] : "64,1024,65536");
  for (std::string s; std::getline(in, s, ',');) sizes.push_back(std::max<size_t>(std::stoul(s), kMinBody));
  const int count = flags.count("count") ? std::stoi(flags["count"]) : 3000;
  const int rate = flags.count("rate") ? std::stoi(flags["rate"]) : 1000;
  const double seconds = flags.count("seconds") ? std::stod(flags["seconds"]) : 2;
  signal(SIGPIPE, SIG_IGN);
  Child server = spawnChild(selfExe(), {"--serve"});
  std::string line;
  if (!expectLine(server, "PORT", &line, 5000)) {
    std::fprintf(stderr, "tcp_baseline: server did not start\n");
    reap(server, true);
    return 1;
  }
  int port = std::stoi(line.substr(5));
  for (size_t size : sizes) {
    int fd = connectTo(port);
    if (fd < 0) break;
    runRtt(fd, size, std::min(count, 100000), rate);
    runRtt(fd, size, std::min(count, 100000), 0);  // back to back
    runTput(fd, server, size, std::min(seconds, 30.0));
    std::fflush(stdout);
    close(fd);
    runAead(size, std::min(seconds, 30.0) / 4);
  }
  const int wake_count = std::min(count, 100000);
  runWake("any", -1, -1, wake_count, rate);
  runWake("same-core", 0, 0, wake_count, rate);
  if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) runWake("cross-core", 0, 1, wake_count, rate);
  close(server.in);
  server.in = -1;
  reap(server, false);
  return 0;
}
