// Settings of `meshslice up`, from four layers in increasing precedence:
//   built-in defaults < config file < environment (MESHSLICE_*) < command-line flags.
// A layer that sets a key replaces the value of every lower layer (lists included: `--peer`
// on the command line replaces the file's `peer` lines rather than adding to them).
//
// Config file format (docs/CLI.md): UTF-8 text, one `key = value` per line, `#` starts a
// comment line, blank lines are ignored, list keys (interface, peer, store, contract) may repeat:
//   name = kitchen-pi
//   listen = 0.0.0.0:7070
//   interface = eth0
//   peer = 192.168.1.20:7070
//   mdns = false
//   log-level = info
//   log-format = json
//   store = sensors
//   http = 127.0.0.1:7071
//   http-origin = http://localhost:5173
//   control-group = meshslice
// Unknown keys and bad values are errors naming the file and the line.
//
// Everything here is pure (no I/O) except loadConfigFile(); thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/status.h"
#include "store/store_contract.h"

namespace meshslice {

inline constexpr std::string_view kConfigFileName = "meshslice.conf";
inline constexpr std::string_view kDefaultListen = "0.0.0.0:0";
inline constexpr uint16_t kDefaultMdnsPort = 5353;
inline constexpr size_t kMaxConfigFileSize = 64 * 1024;
inline constexpr size_t kMaxConfigListEntries = 256;

// One layer: only the keys it sets.
struct ConfigLayer {
  std::optional<std::string> state_dir;
  std::optional<std::string> name;
  std::optional<std::string> listen;
  std::optional<std::vector<std::string>> interfaces;
  std::optional<std::vector<std::string>> peers;
  std::optional<bool> mdns;
  std::optional<uint16_t> mdns_port;
  std::optional<LogLevel> log_level;
  std::optional<LogFormat> log_format;
  std::optional<std::vector<std::string>> stores;
  std::optional<std::vector<std::string>> contracts;
  std::optional<std::string> http;
  std::optional<std::vector<std::string>> http_origins;
  std::optional<std::string> control_group;
};

// The resolved settings.
struct DaemonConfig {
  std::string state_dir;
  std::string name;  // empty: the name stored in the identity (new identities: the host name)
  std::string listen = std::string(kDefaultListen);
  std::vector<std::string> interfaces;  // empty: every multicast interface (mDNS), any address
  std::vector<std::string> peers;
  bool mdns = true;
  uint16_t mdns_port = kDefaultMdnsPort;
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;  // stderr lines: text or JSON (base/log.h)
  std::vector<std::string> stores;  // created at start even before the first set
  // "STORE=SCHEMA@VERSION": the contract (codec json) a store declares (docs/STORES.md §6).
  std::vector<std::string> contracts;
  std::string http;                       // HTTP API address (docs/HTTP.md); empty: off
  std::vector<std::string> http_origins;  // browser origins allowed besides the dashboard's
  // Members of this group may use the control socket (mode 0660, this group); empty: 0600.
  std::string control_group;
};

// Parses config file text. `origin` names the file in messages. kInvalidArgument with
// "<origin> line N: ..." on an unknown key, a bad value or a line without '='.
Result<ConfigLayer> parseConfigText(std::string_view text, std::string_view origin);
// Reads and parses a config file (kNotFound if missing, kIo if unreadable, kTooLarge above
// kMaxConfigFileSize).
Result<ConfigLayer> loadConfigFile(const std::string& path);

// Reads MESHSLICE_STATE_DIR, _NAME, _LISTEN, _INTERFACES, _PEERS, _STORES, _HTTP,
// _HTTP_ORIGINS (lists separated by commas or spaces), _MDNS (1/0/true/false/yes/no/on/off), _MDNS_PORT, _LOG_LEVEL, _LOG_FORMAT through
// `getenv` (injectable for tests). Unset or empty variables are not set in the layer.
using GetEnvFn = std::function<const char*(const char*)>;
Result<ConfigLayer> configFromEnv(const GetEnvFn& getenv);

// Applies `layer` over `config` (every key the layer sets replaces the config's value).
void applyLayer(DaemonConfig& config, const ConfigLayer& layer);
// One `contract` entry, "STORE=SCHEMA@VERSION": the store and its contract (codec "json").
// kInvalidArgument naming what is wrong.
Result<std::pair<std::string, StoreContract>> parseContractEntry(std::string_view entry);

// Checks values that need more than syntax: addresses, names, store IDs. kInvalidArgument.
Status validateConfig(const DaemonConfig& config);

// $XDG_STATE_HOME/meshslice, else $HOME/.local/state/meshslice; kNotFound if neither is set.
Result<std::string> defaultStateDir(const GetEnvFn& getenv);

// The state directory of the system daemon (the systemd unit's, docs/CLI.md).
inline constexpr std::string_view kSystemStateDir = "/var/lib/meshslice";
// For client commands without --state-dir or MESHSLICE_STATE_DIR: the user's default directory
// if it exists, else `system_dir` if a daemon's control socket is there, else the user's.
std::string clientStateDir(const std::string& user_default, const std::string& system_dir);

// A browser origin: "http://HOST[:PORT]" or "https://HOST[:PORT]", nothing after. kInvalidArgument.
Status validateOrigin(std::string_view origin);

// Shared by the file and env parsers; exposed for tests.
Result<bool> parseBool(std::string_view text);
// Splits a list on commas and whitespace, dropping empty items.
std::vector<std::string> splitList(std::string_view text);

}  // namespace meshslice
