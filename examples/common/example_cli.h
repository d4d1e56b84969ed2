// What every C++ example shares and is not the point of any of them: command-line flags, the
// identity and mesh secret they name, output lines, and reading commands from stdin. Each
// example's own file shows the library calls (MeshNode, stores, bus) in full.
//
// Common flags:
//   --invite INVITE        the mesh to join (required; --new-invite prints a fresh one)
//   --name NAME            display name of this device (default: the example's name)
//   --listen HOST:PORT     TCP listen address (default 127.0.0.1:0)
//   --peer HOST:PORT       a static peer to keep dialed (repeatable)
//   --state-dir DIR        keep the device identity here between runs (default: new each run)
//   --mdns-interface IF    discover peers with mDNS on IF (repeatable; "lo" stays on loopback)
//   --mdns-port PORT       mDNS UDP port (default 5353; peers must agree)
//   --mdns                 mDNS on every multicast interface: this multicasts on your LAN
//   --run-for SECONDS      exit after this long (stdin at EOF no longer ends the program)
//   --log LEVEL            trace|debug|info|warn|error|off (default warn)
// Nothing multicasts unless --mdns or --mdns-interface is given.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mesh/identity.h"
#include "mesh/mesh_node.h"
#include "mesh/mesh_secret.h"

namespace meshslice::examples {

struct ExampleArgs {
  std::string name;
  std::optional<MeshSecret> secret;
  std::string listen = "127.0.0.1:0";
  std::vector<std::string> peers;
  std::string state_dir;
  std::vector<std::string> mdns_interfaces;
  bool mdns_everywhere = false;
  uint16_t mdns_port = 0;
  double run_for_seconds = 0;  // 0: until stdin ends or "quit"
  std::vector<std::string> extra;  // flags the example handles itself ("--flag value")
};

// Parses argv. Exits with a usage message on bad flags, and after printing an invite for
// --new-invite. `extra_flags` lists example-specific flags that take a value.
ExampleArgs parseArgs(int argc, char** argv, const std::string& example,
                      const std::string& usage_extra = "",
                      const std::vector<std::string>& extra_flags = {});
// The value of an example-specific flag, or `fallback`.
std::string extraFlag(const ExampleArgs& args, const std::string& flag, const std::string& fallback);

// Options and identity from the flags (identity loaded from --state-dir or new); exits on error.
MeshNodeOptions nodeOptions(const ExampleArgs& args);
Identity loadIdentity(const ExampleArgs& args);

// Prints one line on stdout and flushes it; safe from any thread (loop callbacks included).
void say(const std::string& line);

// Reads commands from stdin, one per line, with the --run-for deadline. Returns false at the
// end: "quit", EOF (unless --run-for is set, then the deadline), or the deadline. Prints a
// prompt when stdin is a terminal.
class CommandReader {
 public:
  explicit CommandReader(const ExampleArgs& args);
  bool next(std::string& line);

 private:
  bool readLine(std::string& line, int timeout_ms);
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool interactive_ = false;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace meshslice::examples
