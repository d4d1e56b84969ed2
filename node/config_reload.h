// What `meshslice up` applies on SIGHUP (docs/CLI.md, "Reloading"): the settings re-resolved
// from the same layers as at start (config file, environment, the start's flags), compared with
// the running ones. Pure; thread-compatible.
//
// Applied while running: log-level, log-format, peer (static peers), store (new stores are
// opened; a store no longer listed stays open: it has data and peers), and the allow-list file
// <state-dir>/allow.list (read by the daemon, not part of DaemonConfig). Everything else needs a
// restart and is named in the log: listen, interface, mdns, mdns-port, name, http, http-origin,
// control-group.
#pragma once

#include <string>
#include <vector>

#include "node/daemon_config.h"

namespace meshslice {

struct ReloadPlan {
  bool log_level = false, log_format = false, peers = false;
  std::vector<std::string> new_stores;      // listed now, not at the last (re)load
  std::vector<std::string> needs_restart;   // config keys that changed but apply only at start
};

ReloadPlan planReload(const DaemonConfig& running, const DaemonConfig& next);

}  // namespace meshslice
