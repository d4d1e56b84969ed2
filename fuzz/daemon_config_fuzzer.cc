// Fuzzes the daemon's configuration parsers (node/daemon_config.h): the config file text
// (parseConfigText) and the MESHSLICE_* environment (configFromEnv, the input split at NUL
// bytes into the variables' values). Neither may crash. Whatever parses must render back to
// config file text that parses to the same layer, and applying it to the defaults and
// validating must not crash either. Seeds: fuzz/corpus/daemon_config/ (real config files).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "node/daemon_config.h"

using namespace meshslice;

namespace {

// A list set to no entries cannot be written as file text ("peer =" sets nothing): compare
// it as unset.
bool sameList(const std::optional<std::vector<std::string>>& a, const std::optional<std::vector<std::string>>& b) {
  const bool a_empty = !a || a->empty(), b_empty = !b || b->empty();
  if (a_empty || b_empty) return a_empty == b_empty;
  return *a == *b;
}

bool same(const ConfigLayer& a, const ConfigLayer& b) {
  return a.state_dir == b.state_dir && a.name == b.name && a.listen == b.listen && sameList(a.interfaces, b.interfaces) &&
         sameList(a.peers, b.peers) && a.mdns == b.mdns && a.mdns_port == b.mdns_port && a.log_level == b.log_level &&
         sameList(a.stores, b.stores);
}

// Whether `v` survives as the value of a `key = v` line: one line, nothing the parser trims.
bool writable(const std::string& v) {
  const char* ws = " \t\r";
  return v.find('\n') == std::string::npos &&
         (v.empty() || (std::strchr(ws, v.front()) == nullptr && std::strchr(ws, v.back()) == nullptr));
}

// Config file text for `layer`; false if a value cannot be written that way.
bool render(const ConfigLayer& layer, std::string& out) {
  bool ok = true;
  auto line = [&](const char* key, const std::string& v) {
    ok = ok && writable(v);
    out += std::string(key) + " = " + v + "\n";
  };
  auto list = [&](const char* key, const std::optional<std::vector<std::string>>& v) {
    if (!v || v->empty()) return;
    std::string joined;
    for (const auto& item : *v) joined += (joined.empty() ? "" : ",") + item;
    line(key, joined);
  };
  if (layer.state_dir) line("state-dir", *layer.state_dir);
  if (layer.name) line("name", *layer.name);
  if (layer.listen) line("listen", *layer.listen);
  list("interface", layer.interfaces);
  list("peer", layer.peers);
  list("store", layer.stores);
  if (layer.mdns) line("mdns", *layer.mdns ? "true" : "false");
  if (layer.mdns_port) line("mdns-port", std::to_string(*layer.mdns_port));
  if (layer.log_level) line("log-level", logLevelName(*layer.log_level));
  return ok;
}

void checkLayer(const ConfigLayer& layer) {
  std::string text;
  if (render(layer, text)) {
    auto again = parseConfigText(text, "rendered");
    if (!again || !same(*again, layer)) __builtin_trap();
  }
  DaemonConfig config;
  applyLayer(config, layer);
  validateConfig(config).ignore();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto layer = parseConfigText(text, "fuzz")) checkLayer(*layer);

  // The same bytes as environment variables, one value per NUL-separated part.
  static constexpr const char* kVars[] = {"MESHSLICE_STATE_DIR", "MESHSLICE_NAME", "MESHSLICE_LISTEN",
                                          "MESHSLICE_INTERFACES", "MESHSLICE_PEERS", "MESHSLICE_STORES",
                                          "MESHSLICE_MDNS", "MESHSLICE_MDNS_PORT", "MESHSLICE_LOG_LEVEL"};
  std::vector<std::string> values;
  for (size_t start = 0; start <= text.size() && values.size() < std::size(kVars);) {
    size_t nul = text.find('\0', start);
    if (nul == std::string_view::npos) nul = text.size();
    values.emplace_back(text.substr(start, nul - start));
    start = nul + 1;
  }
  auto getenv = [&](const char* name) -> const char* {
    for (size_t i = 0; i < values.size(); ++i)
      if (std::string_view(name) == kVars[i]) return values[i].c_str();
    return nullptr;
  };
  if (auto layer = configFromEnv(getenv)) checkLayer(*layer);
  return 0;
}
