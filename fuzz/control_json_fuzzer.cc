// Fuzzes the daemon's control socket end to end: the input is written by a client to a real
// ControlServer (Unix socket) in front of the real ControlService, StoreHub and a MeshNode on
// the fuzzer's own loop, exactly as `meshslice up` wires them. Line framing, JSON parsing,
// JSON-RPC validation and every method's parameter checks all see the bytes. After the input,
// the client sends a sentinel request and reads until its answer (or the server closed the
// connection); then it disconnects and the loop runs until the server saw that.
// Seeds: fuzz/corpus/control_json/ (one JSON-RPC session per file).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/log.h"
#include "mesh/mesh_node.h"
#include "node/control_server.h"
#include "node/control_service.h"
#include "node/store_hub.h"

namespace meshslice {
namespace {

constexpr char kSentinel[] = "\n{\"jsonrpc\":\"2.0\",\"id\":\"fuzz-end\",\"method\":\"status\"}\n";
constexpr int kMaxPumps = 200000;  // loop turns per input; far above what any answer needs

struct Harness {
  uv_loop_t loop;
  std::string dir;
  std::string socket_path;
  std::unique_ptr<MeshNode> node;
  std::unique_ptr<StoreHub> stores;
  std::unique_ptr<ControlService> service;
  std::unique_ptr<ControlServer> server;
  uint64_t connections = 0;

  Harness() {
    setLogLevel(LogLevel::kError);
    if (uv_loop_init(&loop) != 0) std::abort();
    char tmpl[] = "/tmp/meshslice-fuzz-control.XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    socket_path = dir + "/control.sock";
    MeshNodeOptions options;
    options.host_loop = &loop;
    options.mesh.listen_address = "127.0.0.1:0";
    node = std::make_unique<MeshNode>(Identity::generate("fuzz"), MeshSecret::generate(), options);
    if (!node->start().isOk()) std::abort();
    stores = std::make_unique<StoreHub>(node->env(), node->core(), dir + "/stores", [this](const Json& e) {
      if (service) service->broadcast(e);
    });
    DaemonInfo info;
    info.state_dir = dir;
    service = std::make_unique<ControlService>(node->core(), *stores, info, [] {});
    node->core().addObserver(service.get());
    server = std::make_unique<ControlServer>(node->env(), &loop, *service);
    if (!server->listen(socket_path).isOk()) std::abort();
  }

  void pump() { uv_run(&loop, UV_RUN_NOWAIT); }

  int connectClient() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    return fd;
  }

  // Writes everything, pumping the loop whenever the socket is full. False if the server
  // closed the connection (a line over the limit does that).
  bool writeAll(int fd, const uint8_t* data, size_t size, std::string& received, bool& eof) {
    size_t off = 0;
    for (int i = 0; off < size && i < kMaxPumps; ++i) {
      ssize_t n = ::send(fd, data + off, size - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pump();
      drain(fd, received, eof);
      if (eof) return false;
    }
    return off == size;
  }

  // Reads what is there (answers must not pile up, or the server drops us as a slow reader).
  static void drain(int fd, std::string& received, bool& eof) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        // Keep only a tail: the sentinel answer is all we look for.
        received.append(buf, static_cast<size_t>(n));
        if (received.size() > 8192) received.erase(0, received.size() - 4096);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof = true;
      return;
    }
  }

  void runOne(const uint8_t* data, size_t size) {
    int fd = connectClient();
    std::string received;
    bool eof = false;
    bool ok = writeAll(fd, data, size, received, eof) &&
              writeAll(fd, reinterpret_cast<const uint8_t*>(kSentinel), sizeof kSentinel - 1, received, eof);
    for (int i = 0; ok && !eof && i < kMaxPumps; ++i) {
      if (received.find("\"fuzz-end\"") != std::string::npos) break;
      pump();
      drain(fd, received, eof);
    }
    if (ok && !eof && received.find("\"fuzz-end\"") == std::string::npos) {
      std::fprintf(stderr, "control_json_fuzzer: no answer to the sentinel request\n");
      std::abort();
    }
    ::close(fd);
    ++connections;
    // The server must notice the disconnect and drop the client (no leak across inputs).
    for (int i = 0; i < kMaxPumps && service->watcherCount() > 0; ++i) pump();
    if (service->watcherCount() != 0) {
      std::fprintf(stderr, "control_json_fuzzer: a closed client is still watching\n");
      std::abort();
    }
  }
};

}  // namespace
}  // namespace meshslice

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Lives for the whole run (the process exits without tearing the node down).
  static auto* harness = new meshslice::Harness();
  harness->runOne(data, size);
  return 0;
}
