#include "node/daemon_config.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mesh/protocol_constants.h"
#include "mesh/static_discovery.h"
#include "transport/address.h"

namespace meshslice {
namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

Result<uint16_t> parsePort(std::string_view text) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535)
    return invalidArgument("not a port number (1..65535): '" + std::string(text) + "'");
  return static_cast<uint16_t>(v);
}

Result<LogLevel> parseLevel(std::string_view text) {
  LogLevel level;
  if (!parseLogLevel(text, level))
    return invalidArgument("unknown log level '" + std::string(text) +
                           "' (trace, debug, info, warn, error, off)");
  return level;
}

void appendTo(std::optional<std::vector<std::string>>& list, std::string value) {
  if (!list) list.emplace();
  list->push_back(std::move(value));
}

// Sets one key of `layer` from text. `append` adds to list keys instead of replacing them.
Status setKey(ConfigLayer& layer, std::string_view key, std::string_view value, bool append) {
  auto list = [&](std::optional<std::vector<std::string>>& field) {
    if (!append) field.emplace();
    for (auto& item : splitList(value)) appendTo(field, std::move(item));
    if (!field) return Status::ok();  // `peer = ,` in a file: no entries, nothing set
    if (field->size() > kMaxConfigListEntries) return invalidArgument("too many '" + std::string(key) + "' entries");
    return Status::ok();
  };
  if (key == "state-dir") layer.state_dir = std::string(value);
  else if (key == "name") layer.name = std::string(value);
  else if (key == "listen") layer.listen = std::string(value);
  else if (key == "interface") return list(layer.interfaces);
  else if (key == "peer") return list(layer.peers);
  else if (key == "store") return list(layer.stores);
  else if (key == "contract") return list(layer.contracts);
  else if (key == "http") layer.http = std::string(value);
  else if (key == "http-origin") return list(layer.http_origins);
  else if (key == "control-group") layer.control_group = std::string(value);
  else if (key == "mdns") {
    auto b = parseBool(value);
    if (!b) return b.status();
    layer.mdns = *b;
  } else if (key == "mdns-port") {
    auto p = parsePort(value);
    if (!p) return p.status();
    layer.mdns_port = *p;
  } else if (key == "log-level") {
    auto l = parseLevel(value);
    if (!l) return l.status();
    layer.log_level = *l;
  } else if (key == "log-format") {
    LogFormat format;
    if (!parseLogFormat(value, format)) return invalidArgument("unknown log format '" + std::string(value) + "' (text, json)");
    layer.log_format = format;
  } else {
    return invalidArgument("unknown key '" + std::string(key) + "'");
  }
  return Status::ok();
}

}  // namespace

Result<bool> parseBool(std::string_view text) {
  for (auto t : {"1", "true", "yes", "on"})
    if (text == t) return true;
  for (auto f : {"0", "false", "no", "off"})
    if (text == f) return false;
  return invalidArgument("not a boolean (true/false, yes/no, on/off, 1/0): '" + std::string(text) + "'");
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Result<ConfigLayer> parseConfigText(std::string_view text, std::string_view origin) {
  ConfigLayer layer;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto where = [&] { return std::string(origin) + " line " + std::to_string(line_no) + ": "; };
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return invalidArgument(where() + "expected 'key = value'");
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    Status st = setKey(layer, key, value, /*append=*/true);
    if (!st.isOk()) return invalidArgument(where() + st.message());
  }
  return layer;
}

Result<ConfigLayer> loadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // Only a missing file is "not found": an unreadable one must not be skipped silently.
    if (::access(path.c_str(), F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR)) return Status(Code::kNotFound, "no config file " + path);
    return ioError("cannot read config file " + path + ": " + std::strerror(errno));
  }
  std::string text(kMaxConfigFileSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return ioError("cannot read config file " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigFileSize)
    return tooLarge("config file " + path + " is larger than " + std::to_string(kMaxConfigFileSize) + " bytes");
  return parseConfigText(text, "config file " + path);
}

Result<ConfigLayer> configFromEnv(const GetEnvFn& getenv) {
  static constexpr std::pair<const char*, const char*> kVars[] = {
      {"MESHSLICE_STATE_DIR", "state-dir"}, {"MESHSLICE_NAME", "name"},
      {"MESHSLICE_LISTEN", "listen"},       {"MESHSLICE_INTERFACES", "interface"},
      {"MESHSLICE_PEERS", "peer"},          {"MESHSLICE_STORES", "store"},
      {"MESHSLICE_MDNS", "mdns"},           {"MESHSLICE_MDNS_PORT", "mdns-port"},
      {"MESHSLICE_LOG_LEVEL", "log-level"}, {"MESHSLICE_HTTP", "http"},
      {"MESHSLICE_HTTP_ORIGINS", "http-origin"}, {"MESHSLICE_LOG_FORMAT", "log-format"},
      {"MESHSLICE_CONTROL_GROUP", "control-group"},
  };
  ConfigLayer layer;
  for (const auto& [var, key] : kVars) {
    const char* value = getenv(var);
    if (!value || !*value) continue;
    Status st = setKey(layer, key, trim(value), /*append=*/false);
    if (!st.isOk()) return invalidArgument(std::string("environment variable ") + var + ": " + st.message());
  }
  return layer;
}

void applyLayer(DaemonConfig& config, const ConfigLayer& layer) {
  if (layer.state_dir) config.state_dir = *layer.state_dir;
  if (layer.name) config.name = *layer.name;
  if (layer.listen) config.listen = *layer.listen;
  if (layer.interfaces) config.interfaces = *layer.interfaces;
  if (layer.peers) config.peers = *layer.peers;
  if (layer.mdns) config.mdns = *layer.mdns;
  if (layer.mdns_port) config.mdns_port = *layer.mdns_port;
  if (layer.log_level) config.log_level = *layer.log_level;
  if (layer.log_format) config.log_format = *layer.log_format;
  if (layer.stores) config.stores = *layer.stores;
  if (layer.contracts) config.contracts = *layer.contracts;
  if (layer.http) config.http = *layer.http;
  if (layer.http_origins) config.http_origins = *layer.http_origins;
  if (layer.control_group) config.control_group = *layer.control_group;
}

Status validateConfig(const DaemonConfig& config) {
  if (config.state_dir.empty()) return invalidArgument("no state directory (use --state-dir)");
  if (Status st = validateDeviceName(config.name); !st.isOk()) return invalidArgument("name: " + st.message());
  if (auto a = parseSocketAddress(config.listen); !a)
    return invalidArgument("listen address '" + config.listen + "': " + a.status().message());
  for (const auto& p : config.peers)
    if (auto a = StaticDiscovery::parseEntry(p); !a) return invalidArgument("peer '" + p + "': " + a.status().message());
  for (const auto& s : config.stores)
    if (Status st = validateStoreId(s); !st.isOk()) return invalidArgument("store '" + s + "': " + st.message());
  for (const auto& c : config.contracts)
    if (auto e = parseContractEntry(c); !e) return invalidArgument("contract '" + c + "': " + e.status().message());
  for (const auto& i : config.interfaces)
    if (i.empty() || i.size() > 64) return invalidArgument("bad interface name '" + i + "'");
  if (!config.http.empty())
    if (auto a = parseSocketAddress(config.http); !a)
      return invalidArgument("http address '" + config.http + "': " + a.status().message() + " (e.g. 127.0.0.1:7071)");
  for (char c : config.control_group)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return invalidArgument("control-group '" + config.control_group + "': not a group name");
  for (const auto& o : config.http_origins)
    if (Status st = validateOrigin(o); !st.isOk()) return invalidArgument("http-origin '" + o + "': " + st.message());
  return Status::ok();
}

Result<std::pair<std::string, StoreContract>> parseContractEntry(std::string_view entry) {
  const size_t eq = entry.find('='), at = entry.rfind('@');
  if (eq == std::string_view::npos || at == std::string_view::npos || at < eq)
    return invalidArgument("a contract is STORE=SCHEMA@VERSION (e.g. todos=todo@1)");
  std::string store(entry.substr(0, eq));
  MS_RETURN_IF_ERROR(validateStoreId(store));
  StoreContract contract{"json", std::string(entry.substr(eq + 1, at - eq - 1)), 0};
  const std::string_view version = entry.substr(at + 1);
  uint64_t v = 0;
  if (version.empty() || version.size() > 10) return invalidArgument("the version is 0..4294967295");
  for (char c : version) {
    if (c < '0' || c > '9') return invalidArgument("the version is 0..4294967295");
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > UINT32_MAX) return invalidArgument("the version is 0..4294967295");
  contract.version = static_cast<uint32_t>(v);
  if (contract.schema.empty()) return invalidArgument("no schema name");
  MS_RETURN_IF_ERROR(validateStoreContract(contract));
  return std::pair{std::move(store), std::move(contract)};
}

Status validateOrigin(std::string_view origin) {
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos || (origin.substr(0, scheme) != "http" && origin.substr(0, scheme) != "https"))
    return invalidArgument("an origin is http://HOST[:PORT] or https://HOST[:PORT]");
  std::string_view host = origin.substr(scheme + 3);
  if (host.empty() || host.size() > 255) return invalidArgument("no host");
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return invalidArgument("an origin has no path, query or other characters (http://HOST[:PORT])");
  return Status::ok();
}

Result<std::string> defaultStateDir(const GetEnvFn& getenv) {
  const char* xdg = getenv("XDG_STATE_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/meshslice";
  const char* home = getenv("HOME");
  if (home && *home == '/') return std::string(home) + "/.local/state/meshslice";
  return Status(Code::kNotFound, "no state directory: set --state-dir, MESHSLICE_STATE_DIR or HOME");
}

std::string clientStateDir(const std::string& user_default, const std::string& system_dir) {
  if (::access(user_default.c_str(), F_OK) == 0) return user_default;
  const std::string socket = system_dir + "/control.sock";
  // A socket we may not reach (not in its group) is still the one meant: its error says so.
  return ::access(socket.c_str(), F_OK) == 0 || errno == EACCES ? system_dir : user_default;
}

}  // namespace meshslice
