// Daemon: `meshslice up`. Owns the state directory lock, the MeshNode (its own loop thread)
// and, on that loop, the StoreHub, the control socket and the SIGINT/SIGTERM/SIGHUP handlers.
// SIGHUP never stops it: it reloads what can change while running (node/config_reload.h).
//
// run() blocks the calling thread (the process's main thread) until a signal or the `down`
// method asks it to stop, then shuts down cleanly: control socket closed, stores stopped,
// goodbyes sent on every link and over mDNS, every handle closed, lock released.
//
// Startup output (stdout, one "key: value" a line, then "ready"; docs/CLI.md):
//   device: <device ID>
//   name: <display name>
//   listen: <host:port>      one line per listen address
//   control: <socket path>
//   http: <host:port>       only with --http (docs/HTTP.md)
//   invite: <invite>        only when this start created a new mesh
//   ready
// Errors go to stderr as one line; run() returns an ExitCode (node/exit_codes.h).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

#include "mesh/mesh_node.h"
#include "node/daemon_config.h"

namespace meshslice {

class Daemon {
 public:
  // Re-resolves the settings for a reload on SIGHUP (node/config_reload.h): the layers `up`
  // started from. Runs on the loop thread. Null: SIGHUP reloads only allow.list.
  using ConfigSource = std::function<Result<DaemonConfig>()>;
  explicit Daemon(DaemonConfig config, ConfigSource reread = nullptr);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  int run(std::ostream& out, std::ostream& err);
  // Thread-safe; makes run() begin its shutdown.
  void requestStop();

 private:
  struct Runtime;  // what lives on the loop thread
  struct State;    // what is loaded from the state directory
  Result<State> loadState();
  // Writes what this start created in memory (identity, mesh key): only once the node runs,
  // so that a failed start creates neither. Either is null when it was loaded.
  Status persistNew(const Identity* identity, const MeshSecret* secret) const;
  MeshNodeOptions nodeOptions(const State& state) const;
  void waitForStop();

  DaemonConfig config_;
  ConfigSource reread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
};

// The addresses to listen on: `config.listen`, unless it is the default and interfaces were
// named: then every IPv4 address of each named interface (in the order named), port 0 (the
// first listener picks a port and the others reuse it). kInvalidArgument for a named interface
// without an IPv4 address.
Result<std::vector<std::string>> resolveListenAddresses(const DaemonConfig& config);
// The host name, made a valid device name ("meshslice" if it cannot be).
std::string defaultDeviceName();

}  // namespace meshslice
