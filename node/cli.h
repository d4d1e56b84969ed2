// The `meshslice` command line (docs/CLI.md): parsing with CLI11 into an Invocation, then
// running it. Local commands (up, id, mesh ...) act on the state directory; client commands
// (status, peers, stores, get, set, watch, publish, subscribe, down) talk to the running
// daemon over its control socket.
//
// CLI11 reports errors by exception; they are caught here and become kExitUsage with one line
// on stderr. Everything else reports errors as Status values.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/daemon_config.h"

namespace meshslice {

struct Invocation {
  // "up", "id", "mesh invite", "mesh join", "mesh allow", "mesh revoke", "status", "peers",
  // "stores", "get", "set", "watch", "publish", "subscribe", "down", "http token", "http url",
  // "ping".
  std::string command;
  ConfigLayer flags;        // `up`'s settings flags and the global --state-dir / --log-level
  std::string config_file;  // `up --config`
  bool json = false;        // --json output
  bool grouped = false;     // `mesh invite --grouped`
  bool force = false;       // `mesh join --force`
  bool read_only = false;   // `http token --read-only`, `http url --read-only`
  bool snapshot = false;    // `watch --snapshot`
  bool all = false;         // `peers --all`: endpoints being dialed and failed inbound links too
  std::vector<std::string> args;  // positional arguments, in order
  std::optional<std::string> help;  // --help / --version: print this and exit 0
};

// Parses argv (argv[0] is the program name). kInvalidArgument with CLI11's one-line message
// for an unknown command or flag, a missing or bad argument.
Result<Invocation> parseCommandLine(const std::vector<std::string>& argv);

// The resolved state directory: --state-dir, else MESHSLICE_STATE_DIR, else the default.
Result<std::string> resolveStateDir(const Invocation& inv, const GetEnvFn& getenv);
// `up`'s settings: defaults < config file < environment < flags; validated.
Result<DaemonConfig> resolveDaemonConfig(const Invocation& inv, const GetEnvFn& getenv);

// Runs a parsed invocation; returns the process exit code (node/exit_codes.h).
int runInvocation(const Invocation& inv, std::ostream& out, std::ostream& err, const GetEnvFn& getenv);
// main(): parse + run with the real environment and standard streams.
int runCli(int argc, char** argv);

// Client commands (node/client_commands.cc).
int runClientCommand(const Invocation& inv, const std::string& state_dir, std::ostream& out, std::ostream& err);
// `http token`, `http url` (node/http_commands.cc).
int runHttpCommand(const Invocation& inv, const std::string& state_dir, std::ostream& out, std::ostream& err);

}  // namespace meshslice
